#include "core/packet.hh"

namespace longhaul::core {

const char* drop_cause_name(DropCause cause) noexcept {
  switch (cause) {
    case DropCause::queue_full:
      return "queue_full";
    case DropCause::loss:
      return "loss";
    case DropCause::malformed:
      return "malformed";
    case DropCause::buffer_exhausted:
      return "buffer_exhausted";
    case DropCause::tx_error:
      return "tx_error";
    case DropCause::aqm:
      return "aqm";
    case DropCause::mtu:
      return "mtu";
  }
  return "unknown";
}

}  // namespace longhaul::core
