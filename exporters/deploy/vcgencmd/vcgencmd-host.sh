#!/bin/sh
# Runs the host's vcgencmd (mounted read-only at /host/usr) through the host's own dynamic
# loader and libraries, so it works whatever the C library of the image: the loader given
# --library-path loads every library, libc included, from the host.
HOST=${VCGENCMD_HOST_ROOT:-/host}
bin=$HOST/usr/bin/vcgencmd
[ -x "$bin" ] || { echo "vcgencmd: $bin not found: install the host's vcgencmd (Raspberry Pi OS: raspi-utils or libraspberrypi-bin)" >&2; exit 127; }
libs=$HOST/usr/lib/aarch64-linux-gnu:$HOST/usr/lib/arm-linux-gnueabihf:$HOST/usr/lib/x86_64-linux-gnu:$HOST/usr/lib
for ld in $HOST/usr/lib/ld-linux-aarch64.so.1 $HOST/usr/lib/ld-linux-armhf.so.3 $HOST/usr/lib64/ld-linux-x86-64.so.2; do
  [ -e "$ld" ] && exec "$ld" --library-path "$libs" "$bin" "$@"
done
echo "vcgencmd: no dynamic loader of the host under $HOST/usr/lib" >&2
exit 127
