# The ovs-vhu module: the netdev classes and the engine, as one shared
# library that registers the classes from its constructor.
pkglib_LTLIBRARIES += vswitchd-plugin/libovs-vhu.la
vswitchd_plugin_libovs_vhu_la_SOURCES = \
	vswitchd-plugin/netdev-vhu.c \
	vswitchd-plugin/netdev-vhu.h
vswitchd_plugin_libovs_vhu_la_LIBADD = lib/libvhu.la $(OVS_LIBOPENVSWITCH)
vswitchd_plugin_libovs_vhu_la_LDFLAGS = -avoid-version

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

install-exec-local: install-ovs-vswitchd-vhu
install-ovs-vswitchd-vhu: vswitchd-plugin/ovs-vswitchd
	$(MKDIR_P) '$(DESTDIR)$(sbindir)'
	$(LIBTOOL) --mode=install $(INSTALL_PROGRAM) \
		vswitchd-plugin/ovs-vswitchd '$(DESTDIR)$(sbindir)/ovs-vswitchd-vhu'
uninstall-local: uninstall-ovs-vswitchd-vhu
uninstall-ovs-vswitchd-vhu:
	rm -f '$(DESTDIR)$(sbindir)/ovs-vswitchd-vhu'
.PHONY: install-ovs-vswitchd-vhu uninstall-ovs-vswitchd-vhu

dist_man_MANS += vswitchd-plugin/ovs-vswitchd-vhu.8
dist_man_MANS += vswitchd-plugin/ovs-vhu.7
