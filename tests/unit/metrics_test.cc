// The metrics renderer, without a binary.
#include "atlas/metrics.h"
#include "support/test_util.h"

namespace atlas {
namespace {

TEST_CASE("metrics: label values and HELP text are escaped as the exposition format requires",
          "[metrics]") {
  std::vector<MetricFamily> families = {
      MetricFamily{"atlas_scrub_x", "a \\ help\nline", "gauge",
                   {MetricSample{{{"disk", "a\"b\\c\nd"}, {"role", "data"}}, 1},
                    MetricSample{{}, 0.25}}}};
  CHECK(RenderMetrics(families) ==
        "# HELP atlas_scrub_x a \\\\ help\\nline\n"
        "# TYPE atlas_scrub_x gauge\n"
        "atlas_scrub_x{disk=\"a\\\"b\\\\c\\nd\",role=\"data\"} 1\n"
        "atlas_scrub_x 0.25\n");
}

TEST_CASE("metrics: integers print without exponent, large byte counts exactly", "[metrics]") {
  std::vector<MetricFamily> families = {
      MetricFamily{"atlas_scrub_array_bytes", "b", "gauge", {MetricSample{{}, 18000000000000.0}}}};
  CHECK(RenderMetrics(families).find("atlas_scrub_array_bytes 18000000000000\n") != std::string::npos);
}

TEST_CASE("metrics: SMART words map to 0 ok, 1 warning, 2 failing, 3 anything else", "[metrics]") {
  CHECK(SmartStatusValue("ok") == 0);
  CHECK(SmartStatusValue("warning") == 1);
  CHECK(SmartStatusValue("failing") == 2);
  CHECK(SmartStatusValue("unknown") == 3);
  CHECK(SmartStatusValue("standby") == 3);
  CHECK(SmartStatusValue("") == 3);
}

TEST_CASE("metrics: every warning and critical kind has a zero series and open findings are counted",
          "[metrics]") {
  MetricsReport report;
  report.status.health = 2;
  report.status.findings = {MakeFinding(FindingKind::kReadError, "d1", "a", "x"),
                            MakeFinding(FindingKind::kReadError, "d1", "b", "x"),
                            MakeFinding(FindingKind::kSharedFilesystem, "d1", "", "x")};
  DiskStatus d1;
  d1.name = "d1";
  d1.role = "data";
  d1.mounted = true;
  d1.smart = "failing";
  DiskStatus p1;
  p1.name = "parity1";
  p1.role = "parity";
  report.status.disks = {d1, p1};
  RunRecord sync;
  sync.command = "sync";
  sync.start_ns = 1'000'000'000;
  sync.end_ns = 3'500'000'000;
  report.last_runs = {sync};
  std::string text = RenderMetrics(MetricFamilies(report, true, 0.5, "9.9"));
  INFO(text);
  CHECK(text.find("atlas_scrub_findings_open{severity=\"critical\",kind=\"read_error\"} 2\n") != std::string::npos);
  CHECK(text.find("atlas_scrub_findings_open{severity=\"critical\",kind=\"silent_corruption\"} 0\n") != std::string::npos);
  CHECK(text.find("atlas_scrub_findings_open{severity=\"warning\",kind=\"scrub_overdue\"} 0\n") != std::string::npos);
  CHECK(text.find("atlas_scrub_findings_open{severity=\"info\",kind=\"shared_filesystem\"} 1\n") != std::string::npos);
  CHECK(text.find("kind=\"added\"") == std::string::npos);  // drift is atlas_scrub_drift_files
  CHECK(text.find("atlas_scrub_disk_smart_status{disk=\"d1\"} 2\n") != std::string::npos);
  CHECK(text.find("atlas_scrub_disk_up{disk=\"parity1\",role=\"parity\"} 0\n") != std::string::npos);
  CHECK(text.find("atlas_scrub_disk_files{disk=\"parity1\"}") == std::string::npos);
  CHECK(text.find("atlas_scrub_last_run_timestamp_seconds{command=\"sync\"} 3.5\n") != std::string::npos);
  CHECK(text.find("atlas_scrub_last_run_duration_seconds{command=\"sync\"} 2.5\n") != std::string::npos);
  CHECK(text.find("atlas_scrub_info{version=\"9.9\",schema=\"1\"} 1\n") != std::string::npos);
  CHECK(text.find("atlas_scrub_scrape_duration_seconds 0.5\n") != std::string::npos);

  std::string failed = RenderMetrics(MetricFamilies(report, false, 0.1, "9.9"));
  CHECK(failed.find("atlas_scrub_scrape_success 0\n") != std::string::npos);
  CHECK(failed.find("atlas_scrub_health") == std::string::npos);
}

}  // namespace
}  // namespace atlas
