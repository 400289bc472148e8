#pragma once
// The contract every model stage shares (DESIGN.md rule 4).
//
// A stage is pushed packets whose `ts` is their exact arrival time at the stage,
// in non-decreasing order. advance(now) releases, in order, everything due at or
// before `now`, stamping each released packet with its exact departure time, so
// a late wake-up of the engine delays the real send but never shifts the model's
// timeline. next_wakeup() is the earliest time advance() would release anything.
#include "core/packet.hh"
#include "core/time.hh"

namespace longhaul::core {

/// Receives packets a stage releases.
class PacketOutlet {
 public:
  virtual ~PacketOutlet() = default;
  /// Takes a packet whose ts is the time it was released.
  virtual void accept(const Packet& packet) noexcept = 0;
};

/// Receives packets a stage discards, with the reason.
class DropOutlet {
 public:
  virtual ~DropOutlet() = default;
  /// Takes a packet that will never be delivered; `packet.segments` of them are lost.
  virtual void drop(const Packet& packet, DropCause cause) noexcept = 0;
};

class Stage : public PacketOutlet {
 public:
  /// Sets where released and discarded packets go; must be called before use.
  void connect(PacketOutlet& next, DropOutlet& drops) noexcept {
    next_ = &next;
    drops_ = &drops;
  }
  /// Releases everything due at or before `now` to the next outlet.
  virtual void advance(Nanos now) noexcept = 0;
  /// Earliest time advance() would release something; kNever when idle.
  virtual Nanos next_wakeup() const noexcept = 0;

 protected:
  PacketOutlet* next_ = nullptr;
  DropOutlet* drops_ = nullptr;
};

}  // namespace longhaul::core
