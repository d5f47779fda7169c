// SPDX-License-Identifier: MIT
/*
 * The control socket's file: --name NAME -> $XDG_RUNTIME_DIR/vmm/NAME.sock
 * (/run/vmm/NAME.sock for root), or --api-socket PATH.  PATH.lock, held
 * with flock() for the life of the process, says which vmm owns the name;
 * a socket left by a dead vmm is replaced, one of a live vmm is refused.
 * The socket is mode 0600, in a 0700 directory when vmm creates it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "api/api_internal.h"
#include "api/sockdir.h"
#include "log.h"

/* true if something accepts connections at path (a live vmm) */
static bool socket_live(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	bool live;
	int fd;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	live = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(fd);
	return live;
}

static int resolve_path(struct api *api, const char *name, const char *path)
{
	char dir[sizeof(api->sock_path)];
	int ret, n;

	if (path) {
		n = snprintf(api->sock_path, sizeof(api->sock_path), "%s", path);
		if (n < 0 || (size_t)n >= sizeof(api->sock_path) - 5) {
			log_err("--api-socket: '%s' is too long for a Unix socket (at most %zu bytes)",
				path, sizeof(api->sock_path) - 6);
			return -ENAMETOOLONG;
		}
		return 0;
	}
	ret = api_socket_dir(dir, sizeof(dir));
	if (ret) {
		log_err("--name: XDG_RUNTIME_DIR is not set, so there is no directory for the "
			"control socket: set it, or give --api-socket PATH");
		return ret;
	}
	if (mkdir(dir, 0700) && errno != EEXIST) {
		ret = -errno;
		log_err("--name: cannot create the socket directory %s: %s", dir, strerror(errno));
		return ret;
	}
	n = snprintf(api->sock_path, sizeof(api->sock_path), "%s/%s.sock", dir, name);
	if (n < 0 || (size_t)n >= sizeof(api->sock_path) - 5) {
		log_err("--name: %s/%s.sock is too long for a Unix socket", dir, name);
		return -ENAMETOOLONG;
	}
	snprintf(api->name, sizeof(api->name), "%s", name);
	return 0;
}

static int take_lock(struct api *api)
{
	char lock[sizeof(api->sock_path) + 8];
	int ret;

	snprintf(lock, sizeof(lock), "%s.lock", api->sock_path);
	api->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (api->lock_fd < 0) {
		ret = -errno;
		log_err("control socket: cannot open the lock file %s: %s", lock, strerror(errno));
		return ret;
	}
	if (flock(api->lock_fd, LOCK_EX | LOCK_NB) || socket_live(api->sock_path)) {
		log_err("control socket %s is in use by a running vmm: choose another %s",
			api->sock_path, api->name[0] ? "--name" : "--api-socket");
		return -EADDRINUSE;
	}
	return 0;
}

int api_socket_open(struct api *api, const char *name, const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int ret;

	api->listen_fd = api->lock_fd = -1;
	ret = resolve_path(api, name, path);
	if (ret)
		return ret;
	ret = take_lock(api);
	if (ret)
		goto err;
	if (!lstat(api->sock_path, &st)) {
		if (!S_ISSOCK(st.st_mode)) {
			log_err("control socket: %s exists and is not a socket: not replacing it",
				api->sock_path);
			ret = -EEXIST;
			goto err;
		}
		unlink(api->sock_path);		/* a dead vmm's: we hold the lock */
	}
	api->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (api->listen_fd < 0) {
		ret = -errno;
		goto err_sys;
	}
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", api->sock_path);
	/* the file is created with 0777 & ~umask: fchmod first where honoured,
	 * chmod right after bind in any case */
	fchmod(api->listen_fd, 0600);
	if (bind(api->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    chmod(api->sock_path, 0600) || listen(api->listen_fd, 64)) {
		ret = -errno;
		goto err_sys;
	}
	return 0;
err_sys:
	log_err("control socket %s: %s", api->sock_path, strerror(-ret));
err:
	api_socket_close(api);
	return ret;
}

void api_socket_close(struct api *api)
{
	if (api->listen_fd >= 0) {
		close(api->listen_fd);
		api->listen_fd = -1;
		unlink(api->sock_path);
	}
	if (api->lock_fd >= 0) {
		close(api->lock_fd);	/* the lock file stays: unlinking it races */
		api->lock_fd = -1;
	}
}
