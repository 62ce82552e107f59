# The ovs-vhu module: the netdev classes and the engine, as one shared
# library that registers the classes from its constructor.  It is built as
# a shared library for $(pkglibdir) (-rpath), but installed by the rules
# below rather than by libtool, which would relink it against an installed
# libopenvswitch that no distribution ships.
noinst_LTLIBRARIES += vswitchd-plugin/libovs-vhu.la
vswitchd_plugin_libovs_vhu_la_SOURCES = \
	vswitchd-plugin/netdev-vhu-pool.c \
	vswitchd-plugin/netdev-vhu-pool.h \
	vswitchd-plugin/netdev-vhu.c \
	vswitchd-plugin/netdev-vhu.h
vswitchd_plugin_libovs_vhu_la_LIBADD = lib/libvhu.la $(OVS_LIBOPENVSWITCH)
vswitchd_plugin_libovs_vhu_la_LDFLAGS = -avoid-version -rpath '$(pkglibdir)'

# Open vSwitch's ovs-vswitchd, relinked from the objects of the OVS build
# with the module added.  In the build tree it keeps the name ovs-vswitchd,
# so that OVS's tools and test macros find it (its pidfile and control
# socket are named after the program); it is installed as ovs-vswitchd-vhu
# so as not to clash with the distribution's ovs-vswitchd.
OVS_VSWITCHD_OBJECTS = \
	$(OVS_BUILDDIR)/vswitchd/bridge.o \
	$(OVS_BUILDDIR)/vswitchd/ovs-vswitchd.o \
	$(OVS_BUILDDIR)/vswitchd/system-stats.o
noinst_PROGRAMS += vswitchd-plugin/ovs-vswitchd
vswitchd_plugin_ovs_vswitchd_SOURCES = vswitchd-plugin/ovs-vswitchd-vhu.c
vswitchd_plugin_ovs_vswitchd_LDADD = \
	$(OVS_VSWITCHD_OBJECTS) \
	vswitchd-plugin/libovs-vhu.la \
	$(OVS_LIBOFPROTO) \
	$(OVS_LIBSFLOW) \
	$(OVS_LIBOPENVSWITCH)

# "make install": ovs-vswitchd-vhu runs against the Open vSwitch shared
# libraries it was linked with, which are private to the Open vSwitch build
# (Debian's ovs-vswitchd is linked statically and ships none; a
# distribution that ships them may have built them with other options,
# such as DPDK, that change OVS's internal structures), so they are
# installed privately, with the module, in $(pkglibdir).  libtool leaves
# the build trees in the RUNPATH of what it links; patchelf points the
# installed copies at $(pkglibdir) instead, so that nothing installed looks
# into a build tree.
OVS_PRIVATE_LIBS = \
	$(OVS_LIBOPENVSWITCH) \
	$(OVS_LIBSFLOW) \
	$(OVS_LIBOFPROTO) \
	vswitchd-plugin/libovs-vhu.la
# The file each libtool library $(1) is loaded as (its soname).
ovs_vhu_dlname = `$(SED) -n "s/^dlname='\(.*\)'$$/\1/p" $(1)`
OVS_VHU_PATCHELF = \
	if test "$(PATCHELF)" = no; then \
	  echo "patchelf is needed to install (apt-get install patchelf)" >&2; \
	  exit 1; \
	fi; $(PATCHELF)

install-exec-local: install-ovs-vswitchd-vhu
install-ovs-vswitchd-vhu: vswitchd-plugin/ovs-vswitchd $(OVS_PRIVATE_LIBS)
	$(MKDIR_P) '$(DESTDIR)$(sbindir)' '$(DESTDIR)$(pkglibdir)'
	@set -e; for la in $(OVS_PRIVATE_LIBS); do \
	  so=$(call ovs_vhu_dlname,$$la); \
	  test -n "$$so" || { echo "$$la: no shared library" >&2; exit 1; }; \
	  echo " installing $$so in $(pkglibdir)"; \
	  $(INSTALL_DATA) "`dirname $$la`/.libs/$$so" \
	    '$(DESTDIR)$(pkglibdir)/'"$$so"; \
	  $(OVS_VHU_PATCHELF) --set-rpath '$(pkglibdir)' \
	    '$(DESTDIR)$(pkglibdir)/'"$$so"; \
	done
	$(INSTALL_PROGRAM) vswitchd-plugin/.libs/ovs-vswitchd \
		'$(DESTDIR)$(sbindir)/ovs-vswitchd-vhu'
	@$(OVS_VHU_PATCHELF) --set-rpath '$(pkglibdir)' \
		'$(DESTDIR)$(sbindir)/ovs-vswitchd-vhu'
uninstall-local: uninstall-ovs-vswitchd-vhu
uninstall-ovs-vswitchd-vhu:
	rm -f '$(DESTDIR)$(sbindir)/ovs-vswitchd-vhu'
	@for la in $(OVS_PRIVATE_LIBS); do \
	  so=$(call ovs_vhu_dlname,$$la); \
	  echo " rm -f $(pkglibdir)/$$so"; \
	  rm -f '$(DESTDIR)$(pkglibdir)/'"$$so"; \
	done
	-rmdir '$(DESTDIR)$(pkglibdir)' 2>/dev/null
.PHONY: install-ovs-vswitchd-vhu uninstall-ovs-vswitchd-vhu

# "make installcheck": the installed ovs-vswitchd-vhu starts with what was
# installed, whatever happens to the build trees.
installcheck-local:
	@if LD_TRACE_LOADED_OBJECTS=1 '$(DESTDIR)$(sbindir)/ovs-vswitchd-vhu' \
	    | grep -E 'not found|$(OVS_BUILDDIR)|$(abs_top_builddir)'; then \
	  echo "ovs-vswitchd-vhu loads libraries from outside $(pkglibdir)" >&2; \
	  exit 1; \
	fi
	'$(DESTDIR)$(sbindir)/ovs-vswitchd-vhu' --version \
	  | grep -x 'ovs-vhu $(PACKAGE_VERSION)'

dist_man_MANS += vswitchd-plugin/ovs-vswitchd-vhu.8
dist_man_MANS += vswitchd-plugin/ovs-vhu.7
