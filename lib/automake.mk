# The vhost-user engine.  It may use Open vSwitch's utility library but never
# the netdev layer (netdev*.h): vswitchd-plugin/ is the only glue.
noinst_LTLIBRARIES += lib/libvhu.la
lib_libvhu_la_SOURCES = \
	lib/vhu-dev-private.h \
	lib/vhu-dev-show.c \
	lib/vhu-dev.c \
	lib/vhu-dev.h \
	lib/vhu-features.c \
	lib/vhu-features.h \
	lib/vhu-mem.c \
	lib/vhu-mem.h \
	lib/vhu-msg.c \
	lib/vhu-msg.h \
	lib/vhu-requests.h \
	lib/vhu-ring-state.c \
	lib/vhu-ring-state.h \
	lib/vhu-sock-dir.c \
	lib/vhu-sock-dir.h \
	lib/vhu-socket.c \
	lib/vhu-user.c \
	lib/vhu-virtio.h \
	lib/vhu-vq-chain.h \
	lib/vhu-vq-packed.c \
	lib/vhu-vq-split.c \
	lib/vhu-vq.c \
	lib/vhu-vq.h
lib_libvhu_la_LIBADD = $(OVS_LIBOPENVSWITCH)
