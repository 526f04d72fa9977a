// The production AlertTransport: libcurl for HTTP(S) and SMTP(S), fork/exec
// for sendmail. One easy handle per attempt (deliveries are few), with
// connect and total timeouts, no signals (CURLOPT_NOSIGNAL: the CLI owns
// them), and "Expect:" disabled so a small receiver need not answer
// "100 Continue".
//
// SMTP: smtp:// asks for STARTTLS and goes on in clear when the server does
// not offer it (CURLUSESSL_TRY, SPEC "STARTTLS when offered"); smtps:// is
// TLS from the first byte. curl dot-stuffs the upload.
//
// sendmail: `<path> -t -oi`, no shell, the message on stdin with LF line ends
// (the local mail convention), stdout/stderr to /dev/null; the child gets an
// empty signal mask and default SIGPIPE (the CLI blocks and ignores them, and
// both survive exec). A child still running at the timeout is killed.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <mutex>
#include <thread>

#include <curl/curl.h>
#include <fmt/format.h>

#include "alert/url.h"
#include "atlas/alert.h"

namespace atlas {
namespace {

void InitCurlOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct Upload {
  std::string_view data;
  std::size_t pos = 0;
};

std::size_t ReadUpload(char* buf, std::size_t size, std::size_t n, void* arg) {
  auto* u = static_cast<Upload*>(arg);
  std::size_t len = std::min(size * n, u->data.size() - u->pos);
  std::memcpy(buf, u->data.data() + u->pos, len);
  u->pos += len;
  return len;
}

std::size_t KeepSome(char* buf, std::size_t size, std::size_t n, void* arg) {
  auto* out = static_cast<std::string*>(arg);
  if (out->size() < 512) out->append(buf, std::min(size * n, 512 - out->size()));
  return size * n;
}

class CurlTransport final : public AlertTransport {
 public:
  explicit CurlTransport(const DeliveryOptions& options) : options_(options) { InitCurlOnce(); }

  Status Post(const HttpRequest& request) override {
    CURL* c = curl_easy_init();
    if (c == nullptr) return Status::Internal("curl_easy_init failed");
    curl_slist* headers = nullptr;
    for (const auto& [k, v] : request.headers) headers = curl_slist_append(headers, (k + ": " + v).c_str());
    headers = curl_slist_append(headers, "Expect:");
    std::string response;
    char err[CURL_ERROR_SIZE] = {0};
    curl_easy_setopt(c, CURLOPT_URL, request.url.c_str());
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, request.body.data());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "atlas-scrub/0.1.0");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, KeepSome);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &response);
    Common(c, err);
    CURLcode rc = curl_easy_perform(c);
    long code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    curl_slist_free_all(headers);
    curl_easy_cleanup(c);
    std::string where = RedactUrl(request.url);
    if (rc != CURLE_OK) return Status::IOError(fmt::format("{} ({})", *err ? err : curl_easy_strerror(rc), where));
    if (code < 200 || code > 299) {
      std::string snippet;
      for (char ch : response) snippet += (ch == '\n' || ch == '\r') ? ' ' : ch;
      return Status::IOError(fmt::format("HTTP {} from {}{}{}", code, where, snippet.empty() ? "" : ": ",
                                         snippet.substr(0, 200)));
    }
    return Status::Ok();
  }

  Status SendMail(const MailRequest& mail) override {
    if (!mail.sendmail.empty()) return Sendmail(mail);
    CURL* c = curl_easy_init();
    if (c == nullptr) return Status::Internal("curl_easy_init failed");
    curl_slist* rcpt = nullptr;
    for (const std::string& t : mail.to) rcpt = curl_slist_append(rcpt, ("<" + t + ">").c_str());
    std::string from = "<" + mail.from + ">";
    Upload upload{mail.message, 0};
    char err[CURL_ERROR_SIZE] = {0};
    curl_easy_setopt(c, CURLOPT_URL, mail.smtp_url.c_str());
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(c, CURLOPT_USE_SSL,
                     mail.smtp_url.starts_with("smtps://") ? static_cast<long>(CURLUSESSL_ALL)
                                                           : static_cast<long>(CURLUSESSL_TRY));
    curl_easy_setopt(c, CURLOPT_MAIL_FROM, from.c_str());
    curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
    if (!mail.username.empty()) {
      curl_easy_setopt(c, CURLOPT_USERNAME, mail.username.c_str());
      curl_easy_setopt(c, CURLOPT_PASSWORD, mail.password.c_str());
    }
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, ReadUpload);
    curl_easy_setopt(c, CURLOPT_READDATA, &upload);
    curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(mail.message.size()));
    Common(c, err);
    CURLcode rc = curl_easy_perform(c);
    curl_slist_free_all(rcpt);
    curl_easy_cleanup(c);
    if (rc != CURLE_OK) {
      return Status::IOError(
          fmt::format("SMTP: {} ({})", *err ? err : curl_easy_strerror(rc), RedactUrl(mail.smtp_url)));
    }
    return Status::Ok();
  }

 private:
  void Common(CURL* c, char* err) {
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, err);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.connect_timeout_ms));
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.timeout_ms));
  }

  Status Sendmail(const MailRequest& mail) {
    std::string text;  // CRLF -> LF
    text.reserve(mail.message.size());
    for (std::size_t i = 0; i < mail.message.size(); ++i) {
      if (mail.message[i] == '\r' && i + 1 < mail.message.size() && mail.message[i + 1] == '\n') continue;
      text += mail.message[i];
    }
    int in[2];
    if (pipe2(in, O_CLOEXEC) != 0) return Status::FromErrno(errno, "sendmail: pipe");
    std::string path = mail.sendmail.string();
    pid_t pid = fork();
    if (pid < 0) {
      int e = errno;
      close(in[0]);
      close(in[1]);
      return Status::FromErrno(e, "sendmail: fork");
    }
    if (pid == 0) {
      sigset_t none;
      sigemptyset(&none);
      sigprocmask(SIG_SETMASK, &none, nullptr);
      signal(SIGPIPE, SIG_DFL);
      dup2(in[0], 0);
      int null = open("/dev/null", O_WRONLY);
      if (null >= 0) {
        dup2(null, 1);
        dup2(null, 2);
      }
      const char* argv[] = {path.c_str(), "-t", "-oi", nullptr};
      execv(path.c_str(), const_cast<char* const*>(argv));
      _exit(127);
    }
    close(in[0]);
    fcntl(in[1], F_SETFL, O_NONBLOCK);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.timeout_ms);
    auto left_ms = [&] {
      auto d = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      return static_cast<int>(std::max<std::int64_t>(0, d.count()));
    };
    std::size_t off = 0;
    Status s;
    while (off < text.size()) {
      pollfd p{in[1], POLLOUT, 0};
      int r = poll(&p, 1, left_ms());
      if (r == 0) {
        s = Status::IOError(fmt::format("sendmail: {} did not read the message in time", path));
        break;
      }
      ssize_t n = write(in[1], text.data() + off, text.size() - off);
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      if (n < 0) {
        s = Status::FromErrno(errno, fmt::format("sendmail: writing to {}", path));
        break;
      }
      off += static_cast<std::size_t>(n);
    }
    close(in[1]);
    int status = 0;
    for (;;) {
      pid_t w = waitpid(pid, &status, WNOHANG);
      if (w == pid) break;
      if (w < 0 && errno != EINTR) return Status::FromErrno(errno, "sendmail: waitpid");
      if (left_ms() == 0) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        return Status::IOError(fmt::format("sendmail: {} did not finish within the timeout", path));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (!s.ok()) return s;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
      return Status::IOError(fmt::format("sendmail: cannot run {}", path));
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      return Status::IOError(fmt::format("sendmail: {} failed ({})", path,
                                         WIFEXITED(status) ? fmt::format("exit status {}", WEXITSTATUS(status))
                                                           : fmt::format("signal {}", WTERMSIG(status))));
    }
    return Status::Ok();
  }

  DeliveryOptions options_;
};

}  // namespace

std::unique_ptr<AlertTransport> NewCurlTransport(const DeliveryOptions& options) {
  return std::make_unique<CurlTransport>(options);
}

}  // namespace atlas
