# Writes OUTPUT, a C++ source that defines page_html(), page_css() and page_js() of
# dashboard/page.hpp from the files HTML, CSS and JS, each as one raw string literal.
# Run by the build as `cmake -D HTML=... -D CSS=... -D JS=... -D OUTPUT=... -P embed_page.cmake`.

set(delimiter "oscrig_page")
set(body "// Generated from dashboard/page/ by dashboard/embed_page.cmake; edit those files.\n")
string(APPEND body "#include \"dashboard/page.hpp\"\n\nnamespace oscrig::dashboard {\n")

foreach(kind IN ITEMS html css js)
    string(TOUPPER ${kind} variable)
    file(READ "${${variable}}" content)
    string(FIND "${content}" ")${delimiter}\"" clash)
    if(NOT clash EQUAL -1)
        message(FATAL_ERROR "${${variable}} contains \")${delimiter}\"\", which ends the literal")
    endif()
    string(APPEND body "\nstd::string_view page_${kind}() {\n"
        "    static constexpr std::string_view text = R\"${delimiter}(${content})${delimiter}\";\n"
        "    return text;\n}\n")
endforeach()

string(APPEND body "\n}  // namespace oscrig::dashboard\n")
file(WRITE "${OUTPUT}.tmp" "${body}")
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUTPUT}.tmp")
