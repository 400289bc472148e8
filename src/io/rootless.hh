#pragma once
// Rootless mode: a per-user "session" made of a user namespace and a mount namespace, in which
// longhaul is root over namespaces it creates and nothing else.
//
// One long-lived holder process per user owns the session (it is what keeps the namespaces
// alive between commands). Inside the session's mount namespace, /run is a private tmpfs that
// shows the host's /run entries again (bind mounts), except /run/netns, which is the session's
// own, and /run/longhaul, which is the user's state directory ($XDG_RUNTIME_DIR/longhaul/state,
// or /tmp/longhaul-UID/state when XDG_RUNTIME_DIR is unset). So every path the rest of longhaul
// uses means "this user's" inside the session, and one user's labs are invisible to, and out of
// reach of, another user's (and root's). The holder leaves, and with it every namespace of the
// session, once no other process is in the session.
#include <string>

namespace longhaul::io {

/// The user's rootless directory: $XDG_RUNTIME_DIR/longhaul, else /tmp/longhaul-UID. Created
/// mode 0700; refused (EnvironmentError-like std::runtime_error) when it is not ours.
std::string rootless_directory();

/// Joins this user's session, starting its holder first if there is none. Must be called while
/// the process is single-threaded (setns into a user namespace requires it). Afterwards the
/// process is uid 0 in the session and sees the session's /run. Throws std::runtime_error
/// naming the setting to change when unprivileged user namespaces are disabled.
void enter_rootless_session();

/// True once enter_rootless_session() succeeded in this process (or its parent, before fork).
bool in_rootless_session() noexcept;

}  // namespace longhaul::io
