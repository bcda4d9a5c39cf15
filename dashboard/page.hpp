// The dashboard page, its style sheet and its script, compiled into the program so that the
// server needs no files at run time and the page loads nothing from elsewhere.
#pragma once

#include <string_view>

namespace oscrig::dashboard {

std::string_view page_html();
std::string_view page_css();
std::string_view page_js();

}  // namespace oscrig::dashboard
