/* mounts.c - mount and umount2 of a tmpfs, and a loop device over a file (as LTP's test
 * devices and mkfs use them): their ioctls, with structs and a descriptor argument. The
 * new mount interface (fsopen, fsconfig, fsmount, move_mount, open_tree, fspick,
 * mount_setattr, statmount, listmount); file handles (name_to_handle_at,
 * open_by_handle_at). Without the rights or the devices, both runs say so alike. */
// run: tmpfs
// run: loop
// run: newapi
// run: handles
#include "common.h"
#include <fcntl.h>
#include <stdbool.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#define TMPFS_MAGIC 0x01021994
/* <linux/loop.h> and <linux/fs.h>'s (musl's headers have neither) */
#define LOOP_SET_FD 0x4c00
#define LOOP_CLR_FD 0x4c01
#define LOOP_SET_STATUS64 0x4c04
#define LOOP_GET_STATUS64 0x4c05
#define LOOP_CTL_GET_FREE 0x4c82
#define LO_FLAGS_AUTOCLEAR 4
#define BLKSSZGET _IO(0x12, 104)
#define BLKGETSIZE64 _IOR(0x12, 114, size_t)
/* <linux/mount.h>'s, which musl lacks (and glibc's older headers, for the newest calls) */
#define FSOPEN_CLOEXEC 1
#define FSCONFIG_SET_FLAG 0
#define FSCONFIG_SET_STRING 1
#define FSCONFIG_SET_BINARY 2
#define FSCONFIG_CMD_CREATE 6
#define FSCONFIG_CMD_RECONFIGURE 7
#define FSMOUNT_CLOEXEC 1
#define MOVE_MOUNT_F_EMPTY_PATH 4
#define OPEN_TREE_CLONE 1
#define MOUNT_ATTR_RDONLY 1
#define FSPICK_CLOEXEC 1
#define STATMOUNT_SB_BASIC 1
#define STATMOUNT_MNT_BASIC 2
#define STATX_MNT_ID_UNIQUE_ 0x4000
#define LSMT_ROOT 0xffffffffffffffffULL
struct mount_attr_ {
	uint64_t attr_set, attr_clr, propagation, userns_fd;
};
struct mnt_id_req_ {
	uint32_t size, spare;
	uint64_t mnt_id, param;
};
#ifndef SYS_open_tree_attr
#define SYS_open_tree_attr 467
#endif
#ifndef SYS_statmount
#define SYS_statmount 457
#define SYS_listmount 458
#endif
struct loop_info64 {
	uint64_t lo_device, lo_inode, lo_rdev, lo_offset, lo_sizelimit;
	uint32_t lo_number, lo_encrypt_type, lo_encrypt_key_size, lo_flags;
	uint8_t lo_file_name[64], lo_crypt_name[64], lo_encrypt_key[32];
	uint64_t lo_init[2];
};

static void tmpfs(void)
{
	CHECK(mkdir("m", 0700) == 0);
	SHOW(mount("kvmse-test", "m", (const char *)1, 0, NULL));
	SHOW(mount("kvmse-test", "m", "no-such-fs", 0, NULL));
	SHOW(umount2("m", 0));
	if (mount("kvmse-test", "m", "tmpfs", MS_NOSUID, "size=1m,mode=700") < 0) {
		printf("mount: %s\n", strerror(errno));
		return;
	}
	struct statfs fs;
	CHECK(statfs("m", &fs) == 0);
	printf("tmpfs: %d, %ld blocks\n", fs.f_type == TMPFS_MAGIC, (long)fs.f_blocks);
	int fd = open("m/file", O_CREAT | O_WRONLY, 0600);
	CHECK(fd >= 0 && write(fd, "data", 4) == 4 && close(fd) == 0);
	SHOW(umount2("m", MNT_DETACH | MNT_EXPIRE));    /* EINVAL: not together */
	SHOW(umount2("m", 0));
	SHOW(access("m/file", F_OK));
	SHOW(rmdir("m"));
}

static void loop(void)
{
	int ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	if (ctl < 0) {
		printf("no loop devices: %s\n", strerror(errno));
		return;
	}
	int file = open("image", O_CREAT | O_RDWR, 0600);
	CHECK(file >= 0 && ftruncate(file, 1 << 20) == 0);
	int n = ioctl(ctl, LOOP_CTL_GET_FREE);
	CHECK(n >= 0);
	char name[32];
	snprintf(name, sizeof(name), "/dev/loop%d", n);
	int dev = open(name, O_RDWR | O_CLOEXEC);
	CHECK(dev >= 0);
	SHOW(ioctl(dev, LOOP_SET_FD, 99999));
	SHOW(ioctl(dev, LOOP_SET_FD, file));
	struct loop_info64 info;
	memset(&info, 0, sizeof(info));
	SHOW(ioctl(dev, LOOP_GET_STATUS64, &info));
	printf("offset %llu, autoclear %d\n", (unsigned long long)info.lo_offset,
	       !!(info.lo_flags & LO_FLAGS_AUTOCLEAR));
	info.lo_flags |= LO_FLAGS_AUTOCLEAR;
	SHOW(ioctl(dev, LOOP_SET_STATUS64, &info));
	SHOW(ioctl(dev, LOOP_GET_STATUS64, (void *)1));
	uint64_t size = 0;
	int ssz = 0;
	SHOW(ioctl(dev, BLKGETSIZE64, &size));
	SHOW(ioctl(dev, BLKSSZGET, &ssz));
	printf("size %llu, sector %d\n", (unsigned long long)size, ssz);
	/* What is written through the device is in the file. */
	CHECK(pwrite(dev, "through the loop", 16, 4096) == 16 && fsync(dev) == 0);
	char back[17] = "";
	SHOW(ioctl(dev, LOOP_CLR_FD, 0));
	CHECK(pread(file, back, 16, 4096) == 16);
	printf("file reads: %s\n", back);
	close(dev);
	close(ctl);
	close(file);
	unlink("image");
}

/* A tmpfs made by fsopen and fsconfig, mounted on "m" by fsmount and move_mount; a clone
 * of it made read-only by mount_setattr; statmount and listmount find it. */
static void newapi(void)
{
	CHECK(mkdir("m", 0700) == 0);
	SHOW(syscall(SYS_fsopen, "no-such-fs", FSOPEN_CLOEXEC));
	SHOW(syscall(SYS_fsopen, (char *)1, FSOPEN_CLOEXEC));
	int fs = (int)syscall(SYS_fsopen, "tmpfs", FSOPEN_CLOEXEC);
	if (fs < 0) {
		printf("fsopen: %s\n", strerror(errno));
		CHECK(rmdir("m") == 0);
		return;
	}
	SHOW(syscall(SYS_fsconfig, fs, 99, NULL, NULL, 0));              /* EOPNOTSUPP */
	SHOW(syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "size", NULL, 0));
	SHOW(syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, (char *)1, "1m", 0));
	SHOW(syscall(SYS_fsconfig, fs, FSCONFIG_SET_BINARY, "size", "1m", 0));
	SHOW(syscall(SYS_fsconfig, fs, FSCONFIG_SET_FLAG, "no-such-flag", NULL, 0));
	SHOW(syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "size", "1m", 0));
	SHOW(syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "mode", "700", 0));
	SHOW(syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0));
	int mnt = (int)syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC, 0);
	CHECK(mnt >= 0);
	SHOW(syscall(SYS_move_mount, mnt, "", AT_FDCWD, "no-such-dir", MOVE_MOUNT_F_EMPTY_PATH));
	SHOW(syscall(SYS_move_mount, mnt, "", AT_FDCWD, "m", MOVE_MOUNT_F_EMPTY_PATH));
	struct statfs st;
	CHECK(statfs("m", &st) == 0);
	printf("tmpfs: %d, %ld blocks\n", st.f_type == TMPFS_MAGIC, (long)st.f_blocks);
	int fd = open("m/file", O_CREAT | O_WRONLY, 0600);
	CHECK(fd >= 0 && close(fd) == 0);

	int pick = (int)syscall(SYS_fspick, AT_FDCWD, "m", FSPICK_CLOEXEC);
	CHECK(pick >= 0);
	SHOW(syscall(SYS_fsconfig, pick, FSCONFIG_SET_STRING, "size", "2m", 0));
	SHOW(syscall(SYS_fsconfig, pick, FSCONFIG_CMD_RECONFIGURE, NULL, NULL, 0));
	CHECK(statfs("m", &st) == 0);
	printf("after fspick: %ld blocks\n", (long)st.f_blocks);

	int tree = (int)syscall(SYS_open_tree, AT_FDCWD, "m", OPEN_TREE_CLONE | O_CLOEXEC);
	CHECK(tree >= 0);
	struct mount_attr_ attr = { .attr_set = MOUNT_ATTR_RDONLY };
	SHOW(syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH, &attr, 1));    /* EINVAL: size */
	SHOW(syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH, (void *)1, sizeof(attr)));
	SHOW(syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH, &attr, sizeof(attr)));
	CHECK(fstatfs(tree, &st) == 0);
	printf("clone read-only: %d\n", !!(st.f_flags & ST_RDONLY));
	/* open_tree_attr (Linux 6.15): the clone and its attributes in one call */
	int tree2 = (int)syscall(SYS_open_tree_attr, AT_FDCWD, "m", OPEN_TREE_CLONE | O_CLOEXEC,
				 &attr, sizeof(attr));
	if (tree2 < 0) {
		printf("open_tree_attr: %s\n", strerror(errno));
	} else {
		CHECK(fstatfs(tree2, &st) == 0 && close(tree2) == 0);
		printf("open_tree_attr: read-only %d\n", !!(st.f_flags & ST_RDONLY));
		SHOW(syscall(SYS_open_tree_attr, AT_FDCWD, "m", OPEN_TREE_CLONE, (void *)1, sizeof(attr)));
	}

	/* struct statx (which musl lacks): stx_mnt_id at byte 144 */
	uint64_t sx[32];
	CHECK(syscall(SYS_statx, AT_FDCWD, "m", 0, STATX_MNT_ID_UNIQUE_, sx) == 0);
	uint64_t id = sx[144 / 8];
	struct mnt_id_req_ req = { .size = sizeof(req), .mnt_id = id,
				   .param = STATMOUNT_SB_BASIC | STATMOUNT_MNT_BASIC };
	uint64_t buf[64];
	long rc = syscall(SYS_statmount, &req, buf, sizeof(buf), 0);
	if (rc < 0 && errno == ENOSYS) {
		printf("statmount: ENOSYS\n");
	} else {
		CHECK(rc == 0);
		/* struct statmount: size, mnt_opts, mask, sb_dev_major, sb_dev_minor, sb_magic... */
		printf("statmount: magic %d\n", buf[3] == TMPFS_MAGIC);
		req.size = 4;
		SHOW(syscall(SYS_statmount, &req, buf, sizeof(buf), 0));       /* EINVAL */
		SHOW(syscall(SYS_statmount, (void *)1, buf, sizeof(buf), 0));
		req.size = sizeof(req);
		req.mnt_id = LSMT_ROOT;
		req.param = 0;
		uint64_t ids[4096];
		long n = syscall(SYS_listmount, &req, ids, 4096, 0);
		CHECK(n > 0);
		bool found = false;
		for (long i = 0; i < n; i++)
			found |= ids[i] == id;
		printf("listmount: finds it %d\n", found);
		SHOW(syscall(SYS_listmount, &req, (void *)1, 4096, 0));
	}
	CHECK(close(tree) == 0 && close(pick) == 0 && close(mnt) == 0 && close(fs) == 0);
	SHOW(umount2("m", 0));
	SHOW(rmdir("m"));
}

/* name_to_handle_at and open_by_handle_at on a file of the test's directory. */
static void handles(void)
{
	int fd = open("file", O_CREAT | O_WRONLY, 0600);
	CHECK(fd >= 0 && write(fd, "handle", 6) == 6 && close(fd) == 0);
	struct file_handle *h = malloc(sizeof(*h) + MAX_HANDLE_SZ);
	CHECK(h);
	int mount_id;
	h->handle_bytes = 0;
	SHOW(name_to_handle_at(AT_FDCWD, "file", h, &mount_id, 0));       /* EOVERFLOW */
	printf("needs bytes: %d\n", h->handle_bytes > 0);
	h->handle_bytes = MAX_HANDLE_SZ + 1;
	SHOW(name_to_handle_at(AT_FDCWD, "file", h, &mount_id, 0));       /* EINVAL */
	h->handle_bytes = MAX_HANDLE_SZ;
	SHOW(name_to_handle_at(AT_FDCWD, "file", (void *)1, &mount_id, 0));
	SHOW(name_to_handle_at(AT_FDCWD, "file", h, (void *)1, 0));
	SHOW(name_to_handle_at(AT_FDCWD, "no-such-file", h, &mount_id, 0));
	if (name_to_handle_at(AT_FDCWD, "file", h, &mount_id, 0) < 0) {
		printf("name_to_handle_at: %s\n", strerror(errno));
		return;
	}
	int dir = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	CHECK(dir >= 0);
	SHOW(open_by_handle_at(dir, (void *)1, O_RDONLY));
	fd = open_by_handle_at(dir, h, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		printf("open_by_handle_at: %s\n", strerror(errno));
	} else {
		char text[8] = "";
		SHOW(read(fd, text, sizeof(text)));
		printf("read: %s\n", text);
		CHECK(close(fd) == 0);
	}
	h->handle_bytes = 0;
	SHOW(open_by_handle_at(dir, h, O_RDONLY));                            /* EINVAL */
	CHECK(close(dir) == 0);
	free(h);
}

int main(int argc, char **argv)
{
	CHECK(argc == 2);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(argv[1], "tmpfs"))
		tmpfs();
	else if (!strcmp(argv[1], "loop"))
		loop();
	else if (!strcmp(argv[1], "newapi"))
		newapi();
	else if (!strcmp(argv[1], "handles"))
		handles();
	else
		CHECK(0);
	return 0;
}
