# Script mode (cmake -P), run after each test executable is linked: writes
# TESTS_FILE, which CTest includes, with one test per Catch2 TEST_CASE of
# EXECUTABLE, named "KIND: <test case name>" and labelled KIND.
#
# Catch2's own CatchAddTests.cmake turns the listing into a CMake list, so a
# ';' in a test case name splits it into two tests, and neither runs the
# case. Here every line is one name, whatever bytes it holds: ';' is kept
# out of list splitting, and each name is written as a bracket argument.

execute_process(
  COMMAND "${EXECUTABLE}" --list-test-names-only
  OUTPUT_VARIABLE listing
  RESULT_VARIABLE result)
# Catch returns the number of test cases, so only a negative or non-numeric
# result (a crash, a missing library) is an error.
if(NOT result MATCHES "^[0-9]+$")
  message(FATAL_ERROR "${EXECUTABLE} --list-test-names-only failed: ${result}\n${listing}")
endif()

# A byte that is never in a test name stands in for ';' while the lines are
# a list, and is put back in each name.
string(ASCII 31 unit_separator)
string(REPLACE ";" "${unit_separator}" listing "${listing}")
string(REPLACE "\n" ";" lines "${listing}")

set(script "")
set(count 0)
foreach(line IN LISTS lines)
  if(line STREQUAL "")
    continue()
  endif()
  string(REPLACE "${unit_separator}" ";" name "${line}")
  if(name MATCHES "\\]==\\]")
    message(FATAL_ERROR "test case name holds \"]==]\", which this script cannot quote: ${name}")
  endif()
  # The name as a Catch2 test spec: a backslash escapes the characters the
  # spec syntax gives a meaning to (a '*' at either end stays a wildcard).
  set(spec "${name}")
  foreach(char "\\" "," "[" "]" "\"" "~")
    string(REPLACE "${char}" "\\${char}" spec "${spec}")
  endforeach()
  # A spec that starts with "exclude:" selects every test case but the one
  # named by the rest, escaped or quoted alike; a leading wildcard in place
  # of the 'e' selects the names that end like this one: this one alone, as
  # the listing checks.
  if(spec MATCHES "^exclude:")
    string(SUBSTRING "${spec}" 1 -1 rest)
    set(spec "*${rest}")
    execute_process(
      COMMAND "${EXECUTABLE}" --list-test-names-only "${spec}"
      OUTPUT_VARIABLE matched)
    string(REPLACE ";" "${unit_separator}" matched "${matched}")
    string(REGEX MATCHALL "[^\n]+" matched "${matched}")
    list(LENGTH matched matches)
    if(NOT matches EQUAL 1)
      message(FATAL_ERROR "the test spec for \"${name}\" selects ${matches} test cases")
    endif()
  endif()
  string(APPEND script
         "add_test([==[${KIND}: ${name}]==] [==[${EXECUTABLE}]==] [==[${spec}]==])\n"
         "set_tests_properties([==[${KIND}: ${name}]==] PROPERTIES LABELS [==[${KIND}]==]"
         " WORKING_DIRECTORY [==[${WORKING_DIRECTORY}]==])\n")
  math(EXPR count "${count} + 1")
endforeach()
if(count EQUAL 0)
  message(FATAL_ERROR "${EXECUTABLE} lists no test case")
endif()
file(WRITE "${TESTS_FILE}" "${script}")
