// SPDX-License-Identifier: MIT
/*
 * The control socket's ops (vm_api.h): the API thread calls these; each
 * posts its work to the event loop with ev_call() and waits for it, so
 * the VM and its devices are only touched on the loop thread.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <json-c/json.h>

#include "event_loop.h"
#include "exitcode.h"
#include "log.h"
#include "vm.h"
#include "vm_api.h"
#include "vm_ctl.h"
#include "vm_runtime.h"
#include "vm_state.h"

struct api_call {
	struct vm_api *va;
	enum vm_ctl_op op;
	unsigned int timeout_s;
	enum vm_state state;
	int ret;
};

static struct vm_api *va_of(struct api *api)
{
	return api_opaque(api);
}

static int call(struct api *api, ev_work_fn fn, struct api_call *c)
{
	int ret;

	c->va = va_of(api);
	c->ret = -ESHUTDOWN;
	ret = ev_call(c->va->loop, fn, c);
	return ret ? -ESHUTDOWN : c->ret;
}

/* Loop thread: whether work may touch the VM now. */
static int usable(struct api_call *c)
{
	if (api_closing(c->va->api))
		return -ESHUTDOWN;
	return c->va->vm_live ? 0 : -EBUSY;
}

static void ctl_work(void *arg)
{
	struct api_call *c = arg;
	struct vm *vm = c->va->vm;

	c->ret = usable(c);
	if (c->ret)
		return;
	switch (c->op) {
	case VM_CTL_PAUSE: c->ret = vm_pause(vm); break;
	case VM_CTL_RESUME: c->ret = vm_resume(vm); break;
	case VM_CTL_POWER_BUTTON: c->ret = vm_power_button(vm); break;
	case VM_CTL_REBOOT: c->ret = vm_reboot(vm); break;
	case VM_CTL_RESET: c->ret = vm_reset(vm); break;
	case VM_CTL_QUIT: c->ret = vm_quit(vm); break;
	default: c->ret = -ENOSYS; break;
	}
}

static int op_ctl(struct api *api, enum vm_ctl_op op)
{
	struct api_call c = { .op = op };

	return call(api, ctl_work, &c);
}

static void powerdown_expired(void *opaque, int fd, uint32_t events)
{
	struct vm_api *va = opaque;

	ev_del(va->loop, va->powerdown_timer);
	close(va->powerdown_timer);
	va->powerdown_timer = -1;
	if (vm_get_state(va->vm) == VM_STATE_SHUTDOWN)
		return;
	log_warn("powerdown: the guest did not power off in time; quitting");
	vm_emit_event(va->vm, "powerdown-timeout", NULL, 0);
	vm_request_exit(va->vm, VM_EXIT_POWERDOWN_TIMEOUT, VMM_EXIT_POWERDOWN_TIMEOUT);
}

static void powerdown_work(void *arg)
{
	struct api_call *c = arg;
	struct vm_api *va = c->va;
	struct itimerspec its = { .it_value = { .tv_sec = c->timeout_s } };

	c->ret = usable(c);
	if (!c->ret)
		c->ret = vm_power_button(va->vm);
	if (c->ret || !c->timeout_s || va->powerdown_timer >= 0)
		return;
	va->powerdown_timer = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (va->powerdown_timer < 0 || timerfd_settime(va->powerdown_timer, 0, &its, NULL))
		c->ret = -errno;
	else
		c->ret = ev_add(va->loop, va->powerdown_timer, EPOLLIN, powerdown_expired, va);
	if (c->ret) {
		log_err("powerdown: cannot arm the %u s timeout: %s", c->timeout_s,
			strerror(-c->ret));
		if (va->powerdown_timer >= 0)
			close(va->powerdown_timer);
		va->powerdown_timer = -1;
	}
}

static int op_powerdown(struct api *api, unsigned int timeout_s)
{
	struct api_call c = { .timeout_s = timeout_s };

	return call(api, powerdown_work, &c);
}

static void state_work(void *arg)
{
	struct api_call *c = arg;

	c->ret = 0;
	c->state = c->va->vm_live ? vm_get_state(c->va->vm) :
		   c->va->quit ? VM_STATE_SHUTDOWN : VM_STATE_CREATED;
}

static int op_state(struct api *api, enum vm_state *out)
{
	struct api_call c = { 0 };
	int ret;

	ret = call(api, state_work, &c);
	*out = c.state;
	return ret;
}

static void boot_work(void *arg)
{
	struct api_call *c = arg;
	struct vm_api *va = c->va;
	const struct vm_config *cfg = api_pending_config(va->api);

	c->ret = api_closing(va->api) ? -ESHUTDOWN : 0;
	if (c->ret)
		return;
	if (va->vm_live || va->quit || !cfg) {
		c->ret = -EBUSY;
		return;
	}
	/* the VM fields from vm.create, the process fields from the command line */
	{
		struct vm_config keep = *va->cfg;

		*va->cfg = *cfg;
		va->cfg->verbosity = keep.verbosity;
		va->cfg->name = keep.name;
		va->cfg->api_socket = keep.api_socket;
		va->cfg->config_path = keep.config_path;
		va->cfg->event_monitor = keep.event_monitor;
		*va->cfg_arena = api_take_pending_arena(va->api);
	}
	c->ret = vm_create(va->vm, va->cfg);
	if (c->ret) {
		/* the client hears why; a corrected vm.create may follow */
		api_clear_pending(va->api);
		free(*va->cfg_arena);
		*va->cfg_arena = NULL;
		return;
	}
	vm_api_attach(va);
	api_set_boot_requested(va->api);
}

static int op_boot(struct api *api)
{
	struct api_call c = { 0 };

	return call(api, boot_work, &c);
}

static void quit_work(void *arg)
{
	struct api_call *c = arg;

	if (api_closing(c->va->api)) {
		c->ret = -ESHUTDOWN;
	} else if (c->va->vm_live) {
		c->ret = vm_quit(c->va->vm);
	} else {
		c->va->quit = true;	/* main's wait for vm.boot ends */
		c->ret = 0;
	}
}

static int op_quit(struct api *api)
{
	struct api_call c = { 0 };

	return call(api, quit_work, &c);
}

struct counters_call {
	struct api_call c;
	struct json_object *out;
};

static void counters_work(void *arg)
{
	struct counters_call *cc = arg;

	cc->c.ret = api_closing(cc->c.va->api) ? -ESHUTDOWN : 0;
	if (cc->c.ret || !cc->c.va->vm_live)
		return;
	cc->out = vm_counters_json(cc->c.va->vm);
	if (!cc->out)
		cc->c.ret = -ENOMEM;
}

static int op_counters(struct api *api, struct json_object **out)
{
	struct counters_call cc = { .out = NULL };
	int ret;

	ret = call(api, counters_work, &cc.c);
	*out = ret ? NULL : cc.out;
	if (ret)
		json_object_put(cc.out);
	return ret;
}

/* ---- vm.snapshot / vm.restore (vm_state.h) ---- */

struct state_call {
	struct vm_api *va;
	const char *url;
	bool resume;
	struct api_migration_stats *stats;
	char *err;
	size_t errlen;
	int ret;
};

static void snapshot_work(void *arg)
{
	struct state_call *c = arg;

	if (api_closing(c->va->api))
		c->ret = -ESHUTDOWN;
	else if (!c->va->vm_live)
		c->ret = -EBUSY;
	else
		c->ret = vm_snapshot(c->va->vm, c->url, c->resume, c->err, c->errlen);
}

/*
 * Empty vmm: the VM comes from a snapshot (vm.restore) or from a migration
 * source (vm.receive-migration); main() then runs it, as after vm.boot.
 */
static void load_vm(struct state_call *c, bool incoming)
{
	struct vm_api *va = c->va;
	bool refused = false;

	if (api_closing(va->api)) {
		c->ret = -ESHUTDOWN;
		return;
	}
	if (va->vm_live || va->quit || api_pending_config(va->api)) {
		snprintf(c->err, c->errlen, "this vmm already has a VM");
		c->ret = -EBUSY;
		return;
	}
	if (incoming)
		c->ret = vm_incoming(va->vm, va->cfg, va->cfg_arena, c->url, &refused, c->err,
				     c->errlen);
	else
		c->ret = vm_restore(va->vm, va->cfg, va->cfg_arena, c->url, c->resume, &refused,
				    c->err, c->errlen);
	if (c->ret) {
		free(*va->cfg_arena);
		*va->cfg_arena = NULL;
		if (refused)
			c->ret = -EINVAL;
		return;
	}
	vm_api_attach(va);
	api_set_boot_requested(va->api);
}

static void restore_work(void *arg)
{
	load_vm(arg, false);
}

static void receive_work(void *arg)
{
	load_vm(arg, true);
}

static int state_op(struct api *api, ev_work_fn fn, const char *url, bool resume,
		    char *err, size_t errlen)
{
	struct state_call c = { .va = va_of(api), .url = url, .resume = resume,
				.err = err, .errlen = errlen, .ret = -ESHUTDOWN };

	if (ev_call(c.va->loop, fn, &c))
		return -ESHUTDOWN;
	return c.ret;
}

static int op_snapshot(struct api *api, const char *url, bool resume, char *err, size_t errlen)
{
	return state_op(api, snapshot_work, url, resume, err, errlen);
}

static void migrate_work(void *arg)
{
	struct state_call *c = arg;

	if (api_closing(c->va->api))
		c->ret = -ESHUTDOWN;
	else if (!c->va->vm_live)
		c->ret = -EBUSY;
	else
		c->ret = vm_migrate_send(c->va->vm, c->url, c->stats, c->err, c->errlen);
}

static int op_migrate(struct api *api, const char *url, struct api_migration_stats *st,
		      char *err, size_t errlen)
{
	struct state_call c = { .va = va_of(api), .url = url, .stats = st,
				.err = err, .errlen = errlen, .ret = -ESHUTDOWN };

	if (ev_call(c.va->loop, migrate_work, &c))
		return -ESHUTDOWN;
	return c.ret;
}

/*
 * The one op that does not go through the loop: the loop is busy sending
 * the VM, and all this does is set the flag the sender polls.
 */
static int op_migrate_cancel(struct api *api)
{
	struct vm_api *va = va_of(api);

	if (!va->vm_live || !__atomic_load_n(&va->vm->migrating, __ATOMIC_ACQUIRE))
		return -EBUSY;
	__atomic_store_n(&va->vm->migrate_cancel, true, __ATOMIC_RELEASE);
	return 0;
}

static int op_restore(struct api *api, const char *url, bool resume, char *err, size_t errlen)
{
	return state_op(api, restore_work, url, resume, err, errlen);
}

static int op_receive(struct api *api, const char *url, char *err, size_t errlen)
{
	return state_op(api, receive_work, url, false, err, errlen);
}

const struct api_vm_ops vm_api_ops = {
	.ctl = op_ctl,
	.powerdown = op_powerdown,
	.state = op_state,
	.boot = op_boot,
	.quit = op_quit,
	.counters = op_counters,
	.snapshot = op_snapshot,
	.restore = op_restore,
	.migrate = op_migrate,
	.migrate_cancel = op_migrate_cancel,
	.receive = op_receive,
};

void vm_api_init(struct vm_api *va, struct vm *vm, struct ev_loop *loop,
		 struct vm_config *cfg, char **cfg_arena)
{
	memset(va, 0, sizeof(*va));
	va->vm = vm;
	va->loop = loop;
	va->cfg = cfg;
	va->cfg_arena = cfg_arena;
	va->powerdown_timer = va->sigfd = -1;
}

int vm_api_start(struct vm_api *va)
{
	const struct api_config ac = {
		.name = va->cfg->name,
		.socket_path = va->cfg->api_socket,
		.event_monitor = va->cfg->event_monitor,
		.ops = &vm_api_ops,
		.opaque = va,
		.loop = va->loop,
	};

	int ret = api_open(&ac, &va->api);

	if (!ret && va->cfg->kernel)	/* known now; the state says Created until attach */
		api_set_config(va->api, va->cfg);
	return ret;
}

static void wait_signal(void *opaque, int fd, uint32_t events)
{
	struct vm_api *va = opaque;
	struct signalfd_siginfo si;

	if (read(fd, &si, sizeof(si)) == sizeof(si))
		va->signal = (int)si.ssi_signo;
}

int vm_api_wait_boot(struct vm_api *va)
{
	sigset_t set;
	int ret;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	va->sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (va->sigfd < 0 || ev_add(va->loop, va->sigfd, EPOLLIN, wait_signal, va)) {
		log_err("cannot watch for signals: %s", strerror(errno));
		ret = VMM_EXIT_HOST;
		goto out;
	}
	log_info("waiting for vm.create and vm.boot on the control socket");
	while (!va->vm_live && !va->quit && !va->signal) {
		if (ev_loop_once(va->loop, -1) < 0) {
			log_err("the event loop failed while waiting for vm.boot");
			ret = VMM_EXIT_HOST;
			goto out;
		}
	}
	ret = va->vm_live ? -1 : va->quit ? VMM_EXIT_QUIT : VMM_EXIT_SIGNAL_BASE + va->signal;
out:
	if (va->sigfd >= 0) {
		ev_del(va->loop, va->sigfd);
		close(va->sigfd);
		va->sigfd = -1;
	}
	return ret;
}

void vm_api_stop(struct vm_api *va)
{
	vm_api_fini(va);
	api_close(va->api);
	va->api = NULL;
}

void vm_api_attach(struct vm_api *va)
{
	va->vm->loop = va->loop;
	va->vm->event_cb = api_event;
	va->vm->event_opaque = va->api;
	va->vm_live = true;
	api_set_config(va->api, va->vm->cfg);
	api_vm_started(va->api);
}

void vm_api_fini(struct vm_api *va)
{
	if (va->powerdown_timer >= 0) {
		ev_del(va->loop, va->powerdown_timer);
		close(va->powerdown_timer);
		va->powerdown_timer = -1;
	}
}
