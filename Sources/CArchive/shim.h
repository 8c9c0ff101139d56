#ifndef DRCTL_CARCHIVE_SHIM_H
#define DRCTL_CARCHIVE_SHIM_H
// libarchive for Swift. Only headers and `static inline` helpers belong here:
// a `.c` file in a system-library folder is silently ignored by SwiftPM.
#include <archive.h>
#include <archive_entry.h>

/// The libarchive version number as an int, e.g. 3006002 for 3.6.2.
static inline int drctl_archive_version_number(void) { return archive_version_number(); }

#endif
