// What is not data (src/engine/exclude.h): the `exclude` patterns of
// atlas-scrub.toml(5) (a pattern without '/' matches a file or directory
// name at any depth, a leading '/' anchors it at the disk root, a trailing
// '/' makes it match directories only), the parity files, manifest and
// manifest copies that sit on a data disk, and fix's own temporary files.
#include "engine/exclude.h"

#include <cstdint>
#include <limits>
#include <string>

#include "atlas/config.h"

#include "support/test_util.h"

namespace atlas {
namespace {

PathPattern Pattern(std::string_view raw) {
  std::optional<PathPattern> p = PathPattern::Parse(raw);
  REQUIRE(p.has_value());
  return *p;
}

// A config whose manifest, lock, copies and parity live elsewhere, with
// these exclude patterns.
Config WithExclude(std::vector<std::string> patterns) {
  Config c;
  c.manifest = "/var/lib/atlas-scrub/manifest";
  c.exclude = std::move(patterns);
  return c;
}

constexpr bool kFile = false;
constexpr bool kDir = true;

TEST_CASE("exclude: a pattern is parsed into its glob, anchor and directory-only flag",
          "[exclude][engine][unit]") {
  PathPattern base = Pattern("*.tmp");
  CHECK(base.glob == "*.tmp");
  CHECK_FALSE(base.anchored);
  CHECK_FALSE(base.dir_only);
  PathPattern root_dir = Pattern("/lost+found/");
  CHECK(root_dir.glob == "lost+found");
  CHECK(root_dir.anchored);
  CHECK(root_dir.dir_only);
  PathPattern dir = Pattern("cache/");
  CHECK(dir.glob == "cache");
  CHECK_FALSE(dir.anchored);
  CHECK(dir.dir_only);
  // Nothing is left once the slashes go: no pattern.
  CHECK_FALSE(PathPattern::Parse("").has_value());
  CHECK_FALSE(PathPattern::Parse("/").has_value());
  CHECK_FALSE(PathPattern::Parse("//").has_value());
}

TEST_CASE("exclude: a pattern without '/' matches a file or directory name at any depth",
          "[exclude][engine][unit]") {
  PathPattern p = Pattern("*.tmp");
  CHECK(p.Matches("a.tmp", kFile));
  CHECK(p.Matches("Movies/x/a.tmp", kFile));
  CHECK(p.Matches("Movies/build.tmp", kDir));  // a directory's name too
  CHECK_FALSE(p.Matches("a.tmp.mkv", kFile));
  CHECK_FALSE(p.Matches("Movies/tmp", kFile));
  // Only the base name counts: a file below a matching directory is not
  // matched itself (the walk never enters that directory).
  CHECK_FALSE(p.Matches("build.tmp/a.mkv", kFile));
  // Names are matched as the bytes they are: case counts.
  CHECK_FALSE(p.Matches("a.TMP", kFile));

  PathPattern exact = Pattern("Thumbs.db");
  CHECK(exact.Matches("Thumbs.db", kFile));
  CHECK(exact.Matches("Photos/2024/Thumbs.db", kFile));
  CHECK_FALSE(exact.Matches("Photos/Thumbs.db.bak", kFile));
}

TEST_CASE("exclude: a leading '/' anchors the glob at the disk root and matches the whole path",
          "[exclude][engine][unit]") {
  PathPattern p = Pattern("/Movies/*.tmp");
  CHECK(p.Matches("Movies/a.tmp", kFile));
  CHECK_FALSE(p.Matches("a.tmp", kFile));
  CHECK_FALSE(p.Matches("Other/Movies/a.tmp", kFile));
  // '*' does not cross a '/' of the path.
  CHECK_FALSE(p.Matches("Movies/sub/a.tmp", kFile));

  PathPattern file = Pattern("/notes.txt");
  CHECK(file.Matches("notes.txt", kFile));
  CHECK(file.Matches("notes.txt", kDir));  // no trailing '/': files and directories
  CHECK_FALSE(file.Matches("Docs/notes.txt", kFile));

  PathPattern nested = Pattern("/Media/*/cache/");
  CHECK(nested.Matches("Media/TV/cache", kDir));
  CHECK_FALSE(nested.Matches("Media/TV/x/cache", kDir));
  CHECK_FALSE(nested.Matches("Media/TV/cache", kFile));
}

TEST_CASE("exclude: a '/' inside the pattern anchors it at the disk root, as a leading one does",
          "[exclude][engine][unit]") {
  // A base name never holds a '/': unanchored, "Movies/*.tmp" matched nothing.
  PathPattern p = Pattern("Movies/*.tmp");
  CHECK(p.anchored);
  CHECK(p.glob == "Movies/*.tmp");
  CHECK(p.Matches("Movies/a.tmp", kFile));
  CHECK_FALSE(p.Matches("Other/Movies/a.tmp", kFile));
  CHECK_FALSE(p.Matches("a.tmp", kFile));
  PathPattern dir = Pattern("Media/*/cache/");
  CHECK(dir.anchored);
  CHECK(dir.dir_only);
  CHECK(dir.Matches("Media/TV/cache", kDir));
  CHECK_FALSE(dir.Matches("Media/TV/cache", kFile));
}

TEST_CASE("exclude: a trailing '/' matches directories only", "[exclude][engine][unit]") {
  PathPattern p = Pattern("cache/");
  CHECK(p.Matches("cache", kDir));
  CHECK(p.Matches("home/app/cache", kDir));
  CHECK_FALSE(p.Matches("cache", kFile));
  CHECK_FALSE(p.Matches("home/app/cache", kFile));

  PathPattern root = Pattern("/lost+found/");
  CHECK(root.Matches("lost+found", kDir));
  CHECK_FALSE(root.Matches("lost+found", kFile));
  CHECK_FALSE(root.Matches("old/lost+found", kDir));
}

TEST_CASE("exclude: '?', '*' and bracket classes are glob(7) wildcards",
          "[exclude][engine][unit]") {
  PathPattern q = Pattern("IMG_????.JPG");
  CHECK(q.Matches("DCIM/IMG_0001.JPG", kFile));
  CHECK_FALSE(q.Matches("DCIM/IMG_01.JPG", kFile));
  CHECK_FALSE(q.Matches("DCIM/IMG_00001.JPG", kFile));
  PathPattern cls = Pattern("*.[Tt][Mm][Pp]");
  CHECK(cls.Matches("a.TMP", kFile));
  CHECK(cls.Matches("a.tMp", kFile));
  CHECK_FALSE(cls.Matches("a.tmx", kFile));
  PathPattern range = Pattern("/backup-[0-9]/");
  CHECK(range.Matches("backup-7", kDir));
  CHECK_FALSE(range.Matches("backup-x", kDir));
  PathPattern negated = Pattern("[!.]*.part");
  CHECK(negated.Matches("x.part", kFile));
  CHECK_FALSE(negated.Matches(".x.part", kFile));
  PathPattern all = Pattern("*");
  CHECK(all.Matches("anything/at/all", kFile));
}

TEST_CASE("exclude: the default list leaves out *.unrecoverable, *.tmp and the root's lost+found",
          "[exclude][engine][unit]") {
  // atlas-scrub.toml(5): Default: ["*.unrecoverable", "/lost+found/", "*.tmp"].
  Config defaults;
  defaults.manifest = "/var/lib/atlas-scrub/manifest";
  ExcludeMatcher m(defaults, "/mnt/disk1");
  CHECK(m.Excluded("Movies/a.mkv.unrecoverable", kFile));
  CHECK(m.Excluded("part.tmp", kFile));
  CHECK(m.Excluded("lost+found", kDir));
  CHECK_FALSE(m.Excluded("lost+found", kFile));
  CHECK_FALSE(m.Excluded("Movies/lost+found", kDir));
  CHECK_FALSE(m.Excluded("Movies/a.mkv", kFile));
  CHECK_FALSE(m.Excluded("Movies", kDir));
}

TEST_CASE("exclude: setting the key replaces the default list", "[exclude][engine][unit]") {
  ExcludeMatcher part(WithExclude({"*.part"}), "/mnt/disk1");
  CHECK(part.Excluded("a.part", kFile));
  CHECK_FALSE(part.Excluded("a.tmp", kFile));
  CHECK_FALSE(part.Excluded("lost+found", kDir));
  ExcludeMatcher none(WithExclude({}), "/mnt/disk1");
  CHECK_FALSE(none.Excluded("a.tmp", kFile));
  CHECK_FALSE(none.Excluded("lost+found", kDir));
}

TEST_CASE(
    "exclude: the manifest, its lock, its copies and parity files on a data disk are never data",
    "[exclude][engine][unit]") {
  // atlas-scrub.toml(5): "Parity files and the manifest copy directories
  // are always excluded", with or without `exclude` patterns.
  Config c = WithExclude({});
  c.manifest = "/mnt/disk1/.atlas/manifest";
  c.manifest_copies = {"/mnt/disk1/.atlas-scrub", "/mnt/disk2/.atlas-scrub",
                       "/mnt/disk1/./backups/../copies/"};
  c.parity = {{.name = "parity1", .path = "/mnt/disk1/parity/atlas.parity"},
              {.name = "parity2", .path = "/mnt/parity2/atlas.parity"}};
  // The root as given in the config, with or without a trailing '/'.
  for (const char* root : {"/mnt/disk1", "/mnt/disk1/"}) {
    INFO("root " << root);
    ExcludeMatcher m(c, root);
    CHECK(m.Excluded(".atlas/manifest", kDir));
    CHECK(m.Excluded(".atlas/manifest.lock", kFile));
    CHECK(m.Excluded(".atlas-scrub", kDir));
    CHECK(m.Excluded("copies", kDir));  // the path is taken lexically normal
    CHECK(m.Excluded("parity/atlas.parity", kFile));
    // Exactly those paths: their neighbours are data.
    CHECK_FALSE(m.Excluded(".atlas", kDir));
    CHECK_FALSE(m.Excluded(".atlas/manifest2", kDir));
    CHECK_FALSE(m.Excluded("parity/atlas.parity.old", kFile));
    CHECK_FALSE(m.Excluded("x/.atlas-scrub", kDir));
  }
  // Another disk's root holds none of them, not even /mnt/disk10, whose
  // path starts with /mnt/disk1.
  ExcludeMatcher d2(c, "/mnt/disk2");
  CHECK(d2.Excluded(".atlas-scrub", kDir));
  CHECK_FALSE(d2.Excluded("parity/atlas.parity", kFile));
  Config ten = c;
  ten.manifest_copies = {"/mnt/disk10/.atlas-scrub"};
  ExcludeMatcher d1(ten, "/mnt/disk1");
  CHECK_FALSE(d1.Excluded("0/.atlas-scrub", kDir));
  CHECK_FALSE(d1.Excluded(".atlas-scrub", kDir));
}

TEST_CASE("exclude: fix's temporary file names carry the array's tag and the file id",
          "[exclude][fix][engine][unit]") {
  // docs/FORMAT.md "Temporary files of fix": ".atlas-fix-TAG-ID".
  const std::string tag = "0123456789abcdef";
  CHECK(FixTempName(tag, 42) == ".atlas-fix-0123456789abcdef-42");
  CHECK(FixTempName(tag, 0) == ".atlas-fix-0123456789abcdef-0");
  const std::uint64_t max = std::numeric_limits<std::uint64_t>::max();
  CHECK(FixTempName(tag, max) == ".atlas-fix-0123456789abcdef-18446744073709551615");
  for (std::uint64_t id : {std::uint64_t{0}, std::uint64_t{42}, max}) {
    CHECK(IsFixTempName(FixTempName(tag, id), tag));
  }
  // Anything else is not one: another tag, no id, an id that is not
  // decimal, a suffix, a missing dash, or the schema 1 name.
  CHECK_FALSE(IsFixTempName(FixTempName("fedcba9876543210", 42), tag));
  CHECK_FALSE(IsFixTempName(".atlas-fix-0123456789abcdef-", tag));
  CHECK_FALSE(IsFixTempName(".atlas-fix-0123456789abcdef-4x2", tag));
  CHECK_FALSE(IsFixTempName(".atlas-fix-0123456789abcdef--42", tag));
  CHECK_FALSE(IsFixTempName(".atlas-fix-0123456789abcdef-42.tmp", tag));
  CHECK_FALSE(IsFixTempName(".atlas-fix-0123456789abcdef42", tag));
  CHECK_FALSE(IsFixTempName(".atlas-fix-0123456789abcde-42", tag));
  CHECK_FALSE(IsFixTempName("x.atlas-fix-0123456789abcdef-42", tag));
  CHECK_FALSE(IsFixTempName(".a.mkv.atlas-fix-tmp", tag));
  CHECK_FALSE(IsFixTempName("", tag));
  // An empty tag (no fix ever ran) matches nothing.
  CHECK_FALSE(IsFixTempName(".atlas-fix--42", ""));
  CHECK_FALSE(IsFixTempName(FixTempName("", 42), ""));
}

TEST_CASE("exclude: fix's own temporary files are not data; a directory or another tag's file is",
          "[exclude][fix][engine][unit]") {
  const std::string tag = "0123456789abcdef";
  const Config c = WithExclude({});
  ExcludeMatcher m(c, "/mnt/disk1", tag);
  CHECK(m.Excluded(FixTempName(tag, 7), kFile));
  CHECK(m.Excluded("Movies/deep/" + FixTempName(tag, 7), kFile));
  CHECK_FALSE(m.Excluded("Movies/" + FixTempName(tag, 7), kDir));
  CHECK_FALSE(m.Excluded("Movies/" + FixTempName("fedcba9876543210", 7), kFile));
  CHECK_FALSE(m.Excluded("Movies/.a.mkv.atlas-fix-tmp", kFile));
  // Without the manifest's tag, nothing is taken for fix's.
  ExcludeMatcher untagged(c, "/mnt/disk1");
  CHECK_FALSE(untagged.Excluded("Movies/" + FixTempName(tag, 7), kFile));
}

}  // namespace
}  // namespace atlas
