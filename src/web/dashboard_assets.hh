#pragma once
// The web dashboard's files (docs/dashboard.md), compiled into the binary at build time
// (cmake/EmbedAssets.cmake) so nothing is installed beside it and nothing is fetched at run time.
#include <string_view>

namespace longhaul::web {

struct Asset {
  std::string_view path;  ///< as requested: "/", "/ui/dashboard.js"
  std::string_view content_type;
  std::string_view body;
};

/// The asset served at `path`; nullptr when there is none.
const Asset* find_asset(std::string_view path);

}  // namespace longhaul::web
