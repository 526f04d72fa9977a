// disks: the block devices behind the array, and whether each is still the
// disk recorded at the last sync.
#include "atlas/manifest.h"
#include "atlas/report.h"
#include "engine/array.h"
#include "engine/disk_guards.h"

namespace atlas {
namespace {

std::optional<BlockDevice> Describe(const std::optional<FsIdentity>& fs) {
  if (!fs || fs->device.empty()) return std::nullopt;
  Result<BlockDevice> dev = DescribeBlockDeviceNode("/sys", fs->device);
  if (!dev.ok()) return std::nullopt;
  return *dev;
}

void SetRecorded(const std::optional<DiskRecord>& record, DiskInfo* info) {
  if (!record) return;
  info->recorded_uuid = record->identity.uuid;
  info->recorded_serial = record->identity.serial;
  info->recorded_device = record->identity.device;
}

}  // namespace

Status ListArrayDisks(const RunContext& ctx, DisksReport* report) {
  *report = DisksReport();
  Result<std::unique_ptr<Manifest>> opened = OpenManifestIfExists(*ctx.config);
  if (!opened.ok()) return opened.status().WithContext("disks");
  std::unique_ptr<Manifest> m = std::move(opened).value();
  ATLAS_ASSIGN_OR_RETURN(ArrayView array, LoadArray(ctx, m.get()));
  for (const ArrayDataDisk& d : array.data) {
    DiskInfo info;
    info.name = d.name;
    info.role = "data";
    info.path = d.root.string();
    info.present = d.present;
    info.mounted = DataDiskMounted(d);
    info.fs = d.identity;
    info.device = Describe(d.identity);
    SetRecorded(d.record, &info);
    report->disks.push_back(std::move(info));
  }
  for (const ArrayParity& p : array.parity) {
    DiskInfo info;
    info.name = p.name;
    info.role = "parity";
    info.path = p.path.string();
    info.present = p.identity.has_value();
    info.mounted = p.identity.has_value() && ParityMounted(p);
    info.fs = p.identity;
    info.device = Describe(p.identity);
    SetRecorded(p.record, &info);
    report->disks.push_back(std::move(info));
  }
  report->findings = CheckDiskGuards(array);
  for (Finding& f : SharedFilesystemFindings(array)) report->findings.push_back(std::move(f));
  return Status::Ok();
}

}  // namespace atlas
