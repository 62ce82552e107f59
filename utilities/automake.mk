# Operator tools and the quick start.
noinst_SCRIPTS = utilities/ovs-vhu-sandbox
CLEANFILES += utilities/ovs-vhu-sandbox
EXTRA_DIST += \
	utilities/ovs-vhu-sandbox.in \
	utilities/quickstart

# The sandbox runs the programs of this build tree: ours and those of the
# Open vSwitch build we compiled against.
utilities/ovs-vhu-sandbox: utilities/ovs-vhu-sandbox.in Makefile
	$(AM_V_GEN)$(MKDIR_P) utilities && \
	sed -e 's|[@]abs_top_builddir[@]|$(abs_top_builddir)|g' \
	    -e 's|[@]OVS_BUILDDIR[@]|$(OVS_BUILDDIR)|g' \
	    -e 's|[@]OVS_SRCDIR[@]|$(OVS_SRCDIR)|g' \
	    -e 's|[@]PACKAGE_VERSION[@]|$(PACKAGE_VERSION)|g' \
	    $(srcdir)/utilities/ovs-vhu-sandbox.in > $@.tmp && \
	chmod +x $@.tmp && mv $@.tmp $@
