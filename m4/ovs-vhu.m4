# Copyright (c) 2026 The ovs-vhu authors.
#
# Licensed under the Apache License, Version 2.0 (the "License");
# you may not use this file except in compliance with the License.
# You may obtain a copy of the License at:
#
#     http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS,
# WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
# See the License for the specific language governing permissions and
# limitations under the License.

dnl OVS_VHU_CHECK_OVS
dnl
dnl Finds the Open vSwitch source and build trees to compile against, the way
dnl OVN does, and refuses one that ovs-vhu cannot use.  With neither
dnl --with-ovs-source nor --with-ovs-build, builds Debian's openvswitch-source
dnl tarball once into _ovs/ of the build tree and uses that.
dnl
dnl Substitutes OVS_SRCDIR, OVS_BUILDDIR, OVS_VERSION, OVS_BUILD_CFLAGS and
dnl OVS_WARNING_FLAGS.
AC_DEFUN([OVS_VHU_CHECK_OVS], [
  AC_ARG_WITH([ovs-source],
    [AS_HELP_STRING([--with-ovs-source=DIR],
                    [Open vSwitch 3.1 source tree to build against])],
    [], [with_ovs_source=])
  AC_ARG_WITH([ovs-build],
    [AS_HELP_STRING([--with-ovs-build=DIR],
                    [Open vSwitch build tree, configured with --enable-shared
                     and built (default: the source tree)])],
    [], [with_ovs_build=])
  AC_ARG_WITH([ovs-tarball],
    [AS_HELP_STRING([--with-ovs-tarball=FILE],
                    [Open vSwitch source tarball to build into _ovs/ when
                     no tree is given (default: Debian's
                     /usr/src/openvswitch/openvswitch.tar.gz)])],
    [], [with_ovs_tarball=/usr/src/openvswitch/openvswitch.tar.gz])

  case $with_ovs_source,$with_ovs_build in
    yes,* | *,yes | no,* | *,no)
      AC_MSG_ERROR([--with-ovs-source and --with-ovs-build need a directory])
      ;;
    ,)
      AC_MSG_CHECKING([for the Open vSwitch tarball $with_ovs_tarball])
      if test ! -r "$with_ovs_tarball"; then
        AC_MSG_RESULT([no])
        AC_MSG_ERROR([no Open vSwitch tree was given and $with_ovs_tarball
is missing.  Install Debian's openvswitch-source package
(apt-get install openvswitch-source), or pass --with-ovs-source=DIR
(and --with-ovs-build=DIR) for an Open vSwitch 3.1 tree that is configured
with --enable-shared and built.])
      fi
      AC_MSG_RESULT([yes])
      AC_MSG_NOTICE([building Open vSwitch into _ovs/ (once)])
      "$srcdir/build-aux/build-ovs" "$with_ovs_tarball" "$ac_pwd/_ovs" \
        || AC_MSG_ERROR([building Open vSwitch from $with_ovs_tarball failed;
see $ac_pwd/_ovs/build.log])
      OVS_SRCDIR=$ac_pwd/_ovs/src
      OVS_BUILDDIR=$ac_pwd/_ovs/build
      ;;
    ,*)
      OVS_BUILDDIR=$with_ovs_build
      test -f "$OVS_BUILDDIR/Makefile" \
        || AC_MSG_ERROR([$OVS_BUILDDIR is not a configured Open vSwitch
build tree (no Makefile).  Configure Open vSwitch there with
--enable-shared and build it, or pass --with-ovs-source=DIR.])
      OVS_SRCDIR=`sed -n 's/^abs_top_srcdir = //p' "$OVS_BUILDDIR/Makefile"`
      ;;
    *,)
      OVS_SRCDIR=$with_ovs_source
      OVS_BUILDDIR=$with_ovs_source
      ;;
    *)
      OVS_SRCDIR=$with_ovs_source
      OVS_BUILDDIR=$with_ovs_build
      ;;
  esac

  AC_MSG_CHECKING([for the Open vSwitch source tree])
  if test ! -f "$OVS_SRCDIR/lib/netdev-provider.h" \
     || test ! -f "$OVS_SRCDIR/vswitchd/vswitch.ovsschema" \
     || test ! -f "$OVS_SRCDIR/tests/ofproto-macros.at"; then
    AC_MSG_RESULT([no])
    AC_MSG_ERROR([$OVS_SRCDIR is not an Open vSwitch source tree
(lib/netdev-provider.h, vswitchd/vswitch.ovsschema or
tests/ofproto-macros.at is missing).  Pass --with-ovs-source=DIR for an
unpacked Open vSwitch 3.1 source tree.])
  fi
  OVS_SRCDIR=`cd "$OVS_SRCDIR" && pwd`
  AC_MSG_RESULT([$OVS_SRCDIR])

  AC_MSG_CHECKING([for the Open vSwitch build tree])
  if test ! -f "$OVS_BUILDDIR/config.h" \
     || test ! -f "$OVS_BUILDDIR/Makefile"; then
    AC_MSG_RESULT([no])
    AC_MSG_ERROR([Open vSwitch in $OVS_BUILDDIR is not configured
(no config.h).  Run "./configure --enable-shared" and "make" there, or
pass --with-ovs-build=DIR for the directory where you built it.])
  fi
  OVS_BUILDDIR=`cd "$OVS_BUILDDIR" && pwd`
  AC_MSG_RESULT([$OVS_BUILDDIR])

  AC_MSG_CHECKING([the Open vSwitch version])
  OVS_VERSION=`sed -n 's/^#define PACKAGE_VERSION "\(.*\)"$/\1/p' \
                   "$OVS_BUILDDIR/config.h"`
  AC_MSG_RESULT([$OVS_VERSION])
  case $OVS_VERSION in
    3.1.*) ;;
    *) AC_MSG_ERROR([Open vSwitch "$OVS_VERSION" in $OVS_BUILDDIR is not
supported: ovs-vhu builds against Open vSwitch 3.1.x, whose internal
netdev provider and dp_packet interfaces it uses.  Use Debian's
openvswitch-source package or an Open vSwitch 3.1 tree.]) ;;
  esac

  AC_MSG_CHECKING([whether Open vSwitch was built without DPDK])
  if grep '^#define DPDK_NETDEV' "$OVS_BUILDDIR/config.h" >/dev/null; then
    AC_MSG_RESULT([no])
    AC_MSG_ERROR([Open vSwitch in $OVS_BUILDDIR was configured --with-dpdk,
which turns struct dp_packet into a DPDK rte_mbuf: ovs-vhu compiles against
the plain dp_packet layout.  Configure a separate Open vSwitch build tree
without --with-dpdk (and with --enable-shared).])
  fi
  AC_MSG_RESULT([yes])

  AC_MSG_CHECKING([whether Open vSwitch is built with shared libraries])
  ovs_vhu_missing=
  for ovs_vhu_file in lib/libopenvswitch.la lib/libsflow.la \
                      ofproto/libofproto.la vswitchd/ovs-vswitchd \
                      vswitchd/bridge.o vswitchd/ovs-vswitchd.o \
                      vswitchd/system-stats.o ovsdb/ovsdb-server \
                      ovsdb/ovsdb-tool utilities/ovs-vsctl \
                      utilities/ovs-ofctl utilities/ovs-appctl; do
    test -e "$OVS_BUILDDIR/$ovs_vhu_file" \
      || ovs_vhu_missing="$ovs_vhu_missing $ovs_vhu_file"
  done
  if test -n "$ovs_vhu_missing"; then
    AC_MSG_RESULT([no])
    AC_MSG_ERROR([Open vSwitch in $OVS_BUILDDIR is not built (missing:
$ovs_vhu_missing).  Run "make" in $OVS_BUILDDIR.])
  fi
  if grep "^library_names=''" "$OVS_BUILDDIR/lib/libopenvswitch.la" \
       >/dev/null; then
    AC_MSG_RESULT([no])
    AC_MSG_ERROR([Open vSwitch in $OVS_BUILDDIR was built without shared
libraries: ovs-vhu is a shared module that must share one libopenvswitch
with ovs-vswitchd.  Reconfigure it with --enable-shared and rebuild.])
  fi
  AC_MSG_RESULT([yes])

  dnl Compile with the flags Open vSwitch was built with: some of its
  dnl headers inline code that depends on them (CRC32 hashing with SSE4.2).
  OVS_BUILD_CFLAGS=`sed -n 's/^CFLAGS = //p' "$OVS_BUILDDIR/Makefile"`
  OVS_WARNING_FLAGS=`sed -n 's/^WARNING_FLAGS = //p' "$OVS_BUILDDIR/Makefile"`

  AC_MSG_CHECKING([whether the Open vSwitch internal headers compile])
  ovs_vhu_save_CPPFLAGS=$CPPFLAGS
  ovs_vhu_save_CFLAGS=$CFLAGS
  CPPFLAGS="-I$OVS_SRCDIR/include -I$OVS_BUILDDIR/include \
-I$OVS_SRCDIR/lib -I$OVS_BUILDDIR/lib -I$OVS_BUILDDIR $CPPFLAGS"
  CFLAGS="$OVS_BUILD_CFLAGS"
  AC_COMPILE_IFELSE(
    [AC_LANG_PROGRAM([[#include <config.h>
#include "dp-packet.h"
#include "netdev-provider.h"
#ifdef DPDK_NETDEV
#error "Open vSwitch built with DPDK"
#endif
]], [[struct netdev_class class = { .type = "x", .is_pmd = true };
       struct dp_packet packet;
       dp_packet_use(&packet, NULL, 0);
       return netdev_register_provider(&class);]])],
    [AC_MSG_RESULT([yes])],
    [AC_MSG_RESULT([no])
     AC_MSG_ERROR([cannot compile against the Open vSwitch headers in
$OVS_SRCDIR and $OVS_BUILDDIR; see config.log.])])
  CPPFLAGS=$ovs_vhu_save_CPPFLAGS
  CFLAGS=$ovs_vhu_save_CFLAGS

  AC_SUBST([OVS_SRCDIR])
  AC_SUBST([OVS_BUILDDIR])
  AC_SUBST([OVS_VERSION])
  AC_SUBST([OVS_BUILD_CFLAGS])
  AC_SUBST([OVS_WARNING_FLAGS])
])

dnl OVS_VHU_ENABLE_WERROR
AC_DEFUN([OVS_VHU_ENABLE_WERROR], [
  AC_ARG_ENABLE([Werror],
    [AS_HELP_STRING([--enable-Werror], [treat compiler warnings as errors])],
    [], [enable_Werror=no])
  if test "$enable_Werror" = yes; then
    WERROR_FLAGS=-Werror
  else
    WERROR_FLAGS=
  fi
  AC_SUBST([WERROR_FLAGS])
])
