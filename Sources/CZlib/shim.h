// zlib, for the kernel configuration in /proc/config.gz (gzopen also reads uncompressed files).
#include <zlib.h>
