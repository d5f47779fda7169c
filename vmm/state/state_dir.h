/* SPDX-License-Identifier: MIT */
/*
 * A snapshot directory on disk, written so that a crash or a failure at
 * any point leaves either the old snapshot or the new one, never a mix:
 *
 *   DIR/lock             flock()ed: exclusive while writing, shared while
 *                        restoring, so two vmms never fight over DIR
 *   DIR/state            the state file (stream.h); its memory section
 *                        names the memory file
 *   DIR/memory-XXXXXX    the sparse memory file (mem_file.h), a new
 *                        unique name for every snapshot, never rewritten
 *
 * Writing: state.tmp and a fresh memory-XXXXXX are created; commit
 * fsyncs both, renames state.tmp over state (the switch), fsyncs DIR, and
 * only then removes the previous memory-* files.  A VM still running from
 * an old memory file (MAP_PRIVATE restore) is unaffected: the file is
 * unlinked, never overwritten.
 */
#ifndef VMM_STATE_STATE_DIR_H
#define VMM_STATE_STATE_DIR_H

#include <stdbool.h>

#include "mem_file.h"

#define STATE_DIR_STATE		"state"
#define STATE_DIR_STATE_TMP	"state.tmp"
#define STATE_DIR_LOCK		"lock"

struct state_dir {
	char path[4096];
	int dir_fd;
	int lock_fd;
	int state_fd;
	int mem_fd;
	char mem_name[MEM_FILE_NAME_MAX + 1];
	bool writing;
};

/*
 * Creates DIR if missing (mode 0700), takes the exclusive lock (-EBUSY if
 * another vmm holds it), creates state.tmp and a new memory file.  On
 * success d->state_fd and d->mem_fd are ready for writing.  0 or -errno,
 * logged.
 */
int state_dir_begin(struct state_dir *d, const char *path);
/* Makes the new snapshot the one in DIR (see above) and closes d. */
int state_dir_commit(struct state_dir *d);
/* Drops a begun snapshot: the previous one in DIR stays as it was. */
void state_dir_abort(struct state_dir *d);

/* For restore: shared lock, DIR/state opened read-only into d->state_fd. */
int state_dir_open(struct state_dir *d, const char *path);
/* Opens the memory file the state file names (a plain name, mem_file_check_layout). */
int state_dir_open_memory(struct state_dir *d, const char *name);
void state_dir_close(struct state_dir *d);

/* True for names this code creates as memory files: "memory-" + 6 of [A-Za-z0-9]. */
bool state_dir_is_memory_name(const char *name);

#endif
