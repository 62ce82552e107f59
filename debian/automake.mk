# Debian packaging (debian/control, debian/rules, ...) lives here.  The
# files ship in the release tarball, so that dpkg-buildpackage can run from
# an unpacked "make dist" as from a clone.
EXTRA_DIST += debian/README
