// URL helpers of the alert module.
#pragma once

#include <string>
#include <string_view>

namespace atlas {

// The URL fit for logs and channel names: no user info, no query, and every
// path segment of 16 or more characters (a Discord or Slack webhook token)
// shown as "…".
std::string RedactUrl(std::string_view url);

}  // namespace atlas
