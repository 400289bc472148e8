#pragma once
// `longhaul tune --apply` and `--revert`: the io side that changes a target's settings, saving
// what it found first under /run/longhaul/tune/ so that a revert restores every value exactly.
//
// A netns target takes the settings that live in that namespace (netns-scope sysctls, the route
// interface's txqueuelen, the route's initcwnd/initrwnd); a host-global setting is refused with a
// reason, because writing it from a lab would change the whole machine. The host target (an
// explicit --host) takes them all. "advise" rows are never applied.
#include <string>
#include <vector>

#include "tune/recommend.hh"
#include "tune/saved_state.hh"
#include "tune/settings.hh"

namespace longhaul::tune {

/// Where state files live (tmpfs: a reboot forgets them along with the values they restore).
inline constexpr const char* kTuneStateDir = "/run/longhaul/tune";

/// Applies the "set" rows possible on request's target. The values found are saved (merged with
/// an earlier unreverted apply) before anything is written; if a write fails, what this call
/// changed is put back and the exception propagates.
ApplyResult apply(const std::vector<Recommendation>& rows, const TuneRequest& request);

/// Restores what earlier applies to request's target changed, newest first, then removes the
/// state file (keeping only entries that could not be restored).
RevertResult revert(const TuneRequest& request);

/// Removes the saved state of namespace `netns` (its values die with it): called when a lab or
/// run deletes its namespaces, so /run/longhaul/tune does not collect state for none.
void forget_netns_state(const std::string& netns) noexcept;

}  // namespace longhaul::tune
