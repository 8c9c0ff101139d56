#ifndef DRCTL_CCURL_SHIM_H
#define DRCTL_CCURL_SHIM_H
// libcurl for Swift. `curl_easy_setopt` and `curl_easy_getinfo` are variadic and
// cannot be called from Swift, so each argument type gets a typed `static inline`
// wrapper. Only headers and such wrappers belong here: a `.c` file in a
// system-library folder is silently ignored by SwiftPM.
#include <curl/curl.h>

typedef size_t (*drctl_curl_io_callback)(char *buffer, size_t size, size_t nitems, void *userdata);

static inline CURLcode drctl_curl_setopt_long(CURL *handle, CURLoption option, long value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode drctl_curl_setopt_string(CURL *handle, CURLoption option, const char *value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode drctl_curl_setopt_pointer(CURL *handle, CURLoption option, void *value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode drctl_curl_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode drctl_curl_setopt_off_t(CURL *handle, CURLoption option, curl_off_t value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode drctl_curl_setopt_io_callback(CURL *handle, CURLoption option, drctl_curl_io_callback value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode drctl_curl_setopt_blob(CURL *handle, CURLoption option, struct curl_blob *value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode drctl_curl_getinfo_long(CURL *handle, CURLINFO info, long *value) {
    return curl_easy_getinfo(handle, info, value);
}
static inline CURLcode drctl_curl_getinfo_string(CURL *handle, CURLINFO info, char **value) {
    return curl_easy_getinfo(handle, info, value);
}

#endif
