# RPM packaging (a spec built from "make dist" against an Open vSwitch source
# tarball, as OVN's is) lives here.
EXTRA_DIST += rhel/README
