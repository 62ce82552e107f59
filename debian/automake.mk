# Debian packaging.  The files ship in the release tarball, so that
# dpkg-buildpackage runs from an unpacked "make dist" as from a clone.
EXTRA_DIST += \
	debian/README \
	debian/changelog \
	debian/control \
	debian/copyright \
	debian/openvswitch-switch-vhu.docs \
	debian/openvswitch-switch-vhu.postinst \
	debian/openvswitch-switch-vhu.prerm \
	debian/rules \
	debian/source/format
