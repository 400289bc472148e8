#pragma once
// Live packet capture with libpcap, written to one pcap file: the io side of `longhaul capture`.
//
// Each source is an interface in some network namespace, read in one direction (incoming or
// outgoing). Handles are activated on a short-lived thread inside the namespace (run_in_netns):
// libpcap's AF_PACKET socket stays bound to that namespace's interface afterwards, so one thread
// can read sources in several namespaces. Timestamps are the kernel's, in nanoseconds, and the
// file is a nanosecond pcap (magic 0xa1b23c4d), which tshark and Wireshark read.
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

// libpcap's handle types, declared here so its header stays out of ours.
struct pcap;
struct pcap_dumper;

namespace longhaul::io {

/// A capture failed: libpcap's message with the interface or file it concerns.
class CaptureError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct CaptureSource {
  int netns_fd = -1;  ///< namespace of the interface (-1: the caller's)
  std::string netns;  ///< its name, for messages
  std::string ifname;
  bool incoming = true;  ///< frames received by the interface; false: frames it sent
};

class PcapCapture {
 public:
  /// Opens every source (nanosecond timestamps, immediate delivery, whole frames up to 256 KiB)
  /// and creates `path` ("-" = standard output). Throws CaptureError naming the interface or the
  /// file; nothing is left open or created on error.
  PcapCapture(const std::vector<CaptureSource>& sources, const std::string& path);
  PcapCapture(const PcapCapture&) = delete;
  PcapCapture& operator=(const PcapCapture&) = delete;
  /// Flushes and closes the file and the handles.
  ~PcapCapture();

  std::size_t source_count() const noexcept { return sources_.size(); }
  /// A descriptor that polls readable when source `i` has frames waiting.
  int wait_fd(std::size_t i) const noexcept;
  /// Writes up to `max_frames` frames waiting on source `i` without blocking; returns how many.
  /// Throws CaptureError when the source failed (e.g. its interface was deleted).
  std::size_t drain(std::size_t i, std::uint64_t max_frames);
  /// Frames written from source `i` so far.
  std::uint64_t written(std::size_t i) const noexcept { return sources_[i].written; }
  /// Frames the kernel dropped on source `i` because the capture buffer was full.
  std::uint64_t kernel_drops(std::size_t i) const;
  /// Pushes buffered output to the file (throws CaptureError when the write failed).
  void flush();
  /// The file's descriptor (to hand the file to the user who ran sudo).
  int file_descriptor() const noexcept;

 private:
  struct Source {
    CaptureSource where;
    pcap* handle = nullptr;
    std::uint64_t written = 0;
  };
  std::vector<Source> sources_;
  pcap_dumper* dumper_ = nullptr;
  std::string path_;

  void close() noexcept;
};

}  // namespace longhaul::io
