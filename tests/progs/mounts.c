/* mounts.c - mount and umount2 of a tmpfs, and a loop device over a file (as LTP's test
 * devices and mkfs use them): their ioctls, with structs and a descriptor argument.
 * Without the rights or the devices, both runs say so alike. */
// run: tmpfs
// run: loop
#include "common.h"
#include <fcntl.h>
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

int main(int argc, char **argv)
{
	CHECK(argc == 2);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(argv[1], "tmpfs"))
		tmpfs();
	else if (!strcmp(argv[1], "loop"))
		loop();
	else
		CHECK(0);
	return 0;
}
