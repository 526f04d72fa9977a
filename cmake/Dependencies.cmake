# Every dependency comes from a Debian 12 package (scripts/install-deps.sh).
# CMake configs where Debian ships them, pkg-config for the rest.
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)
find_package(RocksDB CONFIG REQUIRED)          # RocksDB::rocksdb-shared
find_package(tomlplusplus CONFIG REQUIRED)     # tomlplusplus::tomlplusplus (compiled .so)
find_package(CLI11 CONFIG REQUIRED)            # header-only: keep it in one TU (src/cli/main.cc)
find_package(fmt CONFIG REQUIRED)
find_package(nlohmann_json 3 CONFIG REQUIRED)
find_package(CURL REQUIRED)                    # CURL::libcurl (libcurl4-openssl-dev): alerts
pkg_check_modules(ISAL   REQUIRED IMPORTED_TARGET libisal)
pkg_check_modules(XXHASH REQUIRED IMPORTED_TARGET libxxhash)
pkg_check_modules(BLKID  REQUIRED IMPORTED_TARGET blkid)
pkg_check_modules(UDEV   REQUIRED IMPORTED_TARGET libudev)
pkg_check_modules(ATASMART REQUIRED IMPORTED_TARGET libatasmart)
pkg_check_modules(SODIUM REQUIRED IMPORTED_TARGET libsodium)
if(ATLAS_BUILD_TESTS)
  find_package(Catch2 2 CONFIG REQUIRED)       # Catch2::Catch2WithMain (v2.13)
endif()
if(ATLAS_BUILD_BENCH)
  find_package(benchmark CONFIG REQUIRED)
endif()
