# RPM packaging.  configure makes rhel/ovs-vhu.spec from
# rhel/ovs-vhu.spec.in (the version); it ships in the release tarball with
# the rest of rhel/, so that "rpmbuild -ta ovs-vhu-VERSION.tar.gz" finds it
# and rpmbuild builds from an unpacked "make dist" as from a clone.
EXTRA_DIST += \
	rhel/README \
	rhel/ovs-vhu.spec \
	rhel/ovs-vhu.spec.in \
	rhel/usr_lib_systemd_system_ovs-vswitchd.service.d_ovs-vhu.conf.in

# "make rpm-srpm" and "make rpm": the source or binary package, built by
# rpmbuild in rpm/rpmbuild/ of the build tree from "make dist"'s tarball and
# the Open vSwitch release tarball RPM_OVS_TARBALL, which must be Open
# vSwitch RPM_OVS_VERSION (by default the one this tree is configured
# against; Debian's openvswitch-source is 3.1.0).  On Debian,
# RPMBUILD_OPT=--nodeps: its RPM database knows none of the BuildRequires.
RPMBUILD_TOP = $(abs_top_builddir)/rpm/rpmbuild
RPM_OVS_TARBALL = /usr/src/openvswitch/openvswitch.tar.gz
RPM_OVS_VERSION = $(OVS_VERSION)
RPMBUILD_OPT =
RPMBUILD = rpmbuild -D '_topdir $(RPMBUILD_TOP)' \
	-D 'ovsver $(RPM_OVS_VERSION)' $(RPMBUILD_OPT)
rpm-sources: dist
	$(MKDIR_P) '$(RPMBUILD_TOP)/SOURCES'
	cp $(DIST_ARCHIVES) '$(RPMBUILD_TOP)/SOURCES/'
	cp '$(RPM_OVS_TARBALL)' \
	  '$(RPMBUILD_TOP)/SOURCES/openvswitch-$(RPM_OVS_VERSION).tar.gz'
rpm-srpm: rpm-sources rhel/ovs-vhu.spec
	$(RPMBUILD) -bs rhel/ovs-vhu.spec
rpm: rpm-sources rhel/ovs-vhu.spec
	$(RPMBUILD) -bb rhel/ovs-vhu.spec
clean-local: clean-rpm
clean-rpm:
	rm -rf rpm
.PHONY: rpm-sources rpm-srpm rpm clean-rpm
