# What operators run: the quick start and the sandbox, the quick start's
# demo, and the soak.
noinst_SCRIPTS += \
	utilities/ovs-vhu-sandbox \
	utilities/ovs-vhu-soak
CLEANFILES += \
	utilities/ovs-vhu-sandbox \
	utilities/ovs-vhu-soak
EXTRA_DIST += \
	utilities/ovs-vhu-lib.sh \
	utilities/ovs-vhu-soak.in \
	utilities/ovs-vhu-sandbox.in \
	utilities/quickstart

# The sandbox and the soak, as this build tree runs them (the quick start
# and the system tests): this tree's ovs-vswitchd and shell library, the
# tools and schema of the Open vSwitch build we compiled against.
utilities/ovs-vhu-sandbox utilities/ovs-vhu-soak: %: %.in Makefile
	$(AM_V_GEN)$(MKDIR_P) utilities && \
	sed -e 's|[@]VHU_VSWITCHD[@]|$(abs_top_builddir)/vswitchd-plugin/ovs-vswitchd|g' \
	    -e 's|[@]VHU_PKGDATADIR[@]|$(abs_top_srcdir)/utilities|g' \
	    -e 's|[@]OVS_BINDIRS[@]|$(OVS_BUILDDIR)/ovsdb:$(OVS_BUILDDIR)/utilities|g' \
	    -e 's|[@]OVS_SCHEMA[@]|$(OVS_SRCDIR)/vswitchd/vswitch.ovsschema|g' \
	    -e 's|[@]PACKAGE_VERSION[@]|$(PACKAGE_VERSION)|g' \
	    $(srcdir)/$@.in > $@.tmp && \
	chmod +x $@.tmp && mv $@.tmp $@
