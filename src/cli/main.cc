// atlas-scrub: command-line entry point (work in progress skeleton).
int main() { return 0; }
