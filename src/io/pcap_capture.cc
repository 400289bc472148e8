#include "io/pcap_capture.hh"

#include <pcap/pcap.h>

#include <cstdio>

#include "io/netns.hh"

namespace longhaul::io {

namespace {

// Whole frames: GSO super-frames reach 64 KiB plus headers; 256 KiB is libpcap's own maximum.
constexpr int kSnapLength = 262144;
// Room for bursts while the writer is busy with the disk.
constexpr int kBufferBytes = 32 << 20;

std::string where(const CaptureSource& source) {
  return source.netns.empty() ? source.ifname : source.ifname + " (namespace " + source.netns + ")";
}

/// pcap_create + settings + pcap_activate in the calling thread's namespace.
pcap_t* activate(const CaptureSource& source) {
  char error[PCAP_ERRBUF_SIZE] = {};
  pcap_t* handle = ::pcap_create(source.ifname.c_str(), error);
  if (handle == nullptr) throw CaptureError("pcap_create " + where(source) + ": " + error);
  const auto fail = [&](const std::string& what) {
    std::string message = what + " " + where(source) + ": " + ::pcap_geterr(handle);
    ::pcap_close(handle);
    throw CaptureError(message);
  };
  // Immediate mode: frames are handed over as they arrive, not when a 1 MiB block fills, so a
  // capture of a few pings sees them at once and Ctrl-C loses nothing.
  if (::pcap_set_immediate_mode(handle, 1) != 0) fail("pcap_set_immediate_mode");
  if (::pcap_set_snaplen(handle, kSnapLength) != 0) fail("pcap_set_snaplen");
  if (::pcap_set_buffer_size(handle, kBufferBytes) != 0) fail("pcap_set_buffer_size");
  if (::pcap_set_tstamp_precision(handle, PCAP_TSTAMP_PRECISION_NANO) != 0) {
    fail("pcap_set_tstamp_precision(nano)");
  }
  // Not promiscuous: the ports are veths that only ever receive the lane's own frames.
  const int status = ::pcap_activate(handle);
  if (status < 0) {
    std::string message = "pcap_activate " + where(source) + ": " + ::pcap_statustostr(status);
    if (const char* detail = ::pcap_geterr(handle); detail != nullptr && *detail != '\0') {
      message += std::string(" (") + detail + ")";
    }
    ::pcap_close(handle);
    throw CaptureError(message);
  }
  if (::pcap_setdirection(handle, source.incoming ? PCAP_D_IN : PCAP_D_OUT) != 0) {
    fail("pcap_setdirection");
  }
  if (::pcap_setnonblock(handle, 1, error) != 0) {
    ::pcap_close(handle);
    throw CaptureError("pcap_setnonblock " + where(source) + ": " + error);
  }
  return handle;
}

}  // namespace

PcapCapture::PcapCapture(const std::vector<CaptureSource>& sources, const std::string& path)
    : path_(path) {
  try {
    for (const auto& source : sources) {
      Source opened{source, nullptr, 0};
      opened.handle = source.netns_fd >= 0
                          ? run_in_netns(source.netns_fd, [&] { return activate(source); })
                          : activate(source);
      sources_.push_back(opened);
    }
    if (sources_.empty()) throw CaptureError("nothing to capture");
    const int link_type = ::pcap_datalink(sources_.front().handle);
    for (const auto& source : sources_) {
      if (::pcap_datalink(source.handle) != link_type) {
        throw CaptureError("cannot write " + where(source.where) + " and " +
                           where(sources_.front().where) +
                           " to one file: their link types differ; capture one direction");
      }
    }
    // The file takes the first handle's link type, snap length and (nanosecond) precision.
    dumper_ = ::pcap_dump_open(sources_.front().handle, path.c_str());
    if (dumper_ == nullptr) {
      throw CaptureError("cannot write the capture file: " +
                         std::string(::pcap_geterr(sources_.front().handle)));
    }
  } catch (...) {
    close();
    throw;
  }
}

PcapCapture::~PcapCapture() {
  close();
}

void PcapCapture::close() noexcept {
  if (dumper_ != nullptr) {
    ::pcap_dump_close(dumper_);  // flushes
    dumper_ = nullptr;
  }
  for (auto& source : sources_) {
    if (source.handle != nullptr) ::pcap_close(source.handle);
    source.handle = nullptr;
  }
}

int PcapCapture::wait_fd(std::size_t i) const noexcept {
  return ::pcap_get_selectable_fd(sources_[i].handle);
}

std::size_t PcapCapture::drain(std::size_t i, std::uint64_t max_frames) {
  Source& source = sources_[i];
  // pcap_dispatch takes an int: cap a batch, the caller loops.
  const int batch = static_cast<int>(std::min<std::uint64_t>(max_frames, 1 << 20));
  if (batch == 0) return 0;
  const int got =
      ::pcap_dispatch(source.handle, batch, ::pcap_dump, reinterpret_cast<u_char*>(dumper_));
  if (got == PCAP_ERROR) {
    throw CaptureError("capturing on " + where(source.where) + ": " + ::pcap_geterr(source.handle));
  }
  if (got < 0) return 0;  // PCAP_ERROR_BREAK: not used here
  source.written += static_cast<std::uint64_t>(got);
  return static_cast<std::size_t>(got);
}

std::uint64_t PcapCapture::kernel_drops(std::size_t i) const {
  pcap_stat stats{};
  if (::pcap_stats(sources_[i].handle, &stats) != 0) return 0;
  return stats.ps_drop;
}

void PcapCapture::flush() {
  if (::pcap_dump_flush(dumper_) != 0) {
    throw CaptureError("writing " + (path_ == "-" ? std::string("standard output") : path_) +
                       " failed (disk full?)");
  }
}

int PcapCapture::file_descriptor() const noexcept {
  return ::fileno(::pcap_dump_file(dumper_));
}

}  // namespace longhaul::io
