#include "daemon/demo.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/scst.h"

static int make_backing_file(const char *path, char *err, size_t errlen)
{
	struct stat st;
	int fd;

	if (stat(path, &st) == 0 && (uint64_t)st.st_size >= DEMO_LUN_SIZE)
		return 0;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 || ftruncate(fd, (off_t)DEMO_LUN_SIZE)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

int demo_target_create(const char *state_dir, char *err, size_t errlen)
{
	char path[4096];
	struct scst_attr dev_attrs[] = { { .name = "filename", .value = path } };
	struct scst_tgt_template *iscsi = scst_find_target_template("iscsi");
	struct scst_device *dev;
	struct scst_tgt *tgt;
	int ret = -1;

	if (mkdir(state_dir, 0700) && errno != EEXIST) {
		snprintf(err, errlen, "state directory %s: %s", state_dir, strerror(errno));
		return -1;
	}
	snprintf(path, sizeof(path), "%s/demo-lun0.img", state_dir);
	if (make_backing_file(path, err, errlen))
		return -1;
	pthread_mutex_lock(&scst_mutex);
	dev = scst_device_create("vdisk_fileio", "demo0", dev_attrs, 1, err, errlen);
	if (!dev)
		goto out;
	tgt = scst_target_create(iscsi, DEMO_TARGET_NAME, NULL, 0, err, errlen);
	if (!tgt)
		goto out;
	if (scst_target_add_lun(tgt, 0, dev, false, err, errlen))
		goto out;
	scst_target_set_enabled(tgt, true);
	ret = 0;
out:
	pthread_mutex_unlock(&scst_mutex);
	return ret;
}
