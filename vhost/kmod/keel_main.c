// SPDX-License-Identifier: GPL-2.0
/*
 * keel.ko: the companion's side of keel's channel device (ABI version 2).
 *
 * keel (a static-partitioning hypervisor) shows its companion partition one
 * PCI function, the channel device: registers (BAR0), a window of keel's
 * pages (BAR2, struct keel_chan_shared) and one MSI. keel.ko binds it and
 * offers it to keeld as /dev/keel (keel_dev.h):
 * - keel sets kick bits and sends the MSI; the interrupt handler turns each
 *   bit into a signal of the queue's kick eventfd (vhost's ioeventfd);
 * - each signal of a queue's call eventfd (vhost's irqfd) becomes one
 *   KEEL_HC_RAISE hypercall;
 * - read(2) and poll(2) give keeld the device's lifecycle requests and the
 *   guest's state, which it answers with KEEL_IOC_ACK / KEEL_IOC_FAIL
 *   (KEEL_IOC_ACK_BASES for a handoff stop);
 * - keelctl pauses, stops, captures, restores and resumes the guest and
 *   takes the pages it dirtied through the handoff's ioctls, one
 *   hypercall each.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/eventfd.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/interrupt.h>
#include <linux/io.h>
#include <linux/kref.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/uaccess.h>
#include <linux/wait.h>

#include "keel_abi.h"
#include "keel_dev.h"
#include "keel_state.h"

/* the registers keel.ko reads: the ABI version only */
#define KEEL_CHAN_REGS_MIN_LEN (KEEL_CHAN_REG_ABI_VERSION + 4)

/* keel_abi.h: number in RAX, arguments in RDI and RSI, the answer in RAX */
static inline long keel_hypercall(unsigned long nr, unsigned long arg,
				  unsigned long arg2)
{
	long ret;

	asm volatile("vmcall"
		     : "=a"(ret)
		     : "a"(nr), "D"(arg), "S"(arg2)
		     : "memory");
	return ret;
}

struct keel_stats {
	atomic_long_t irqs;
	atomic_long_t kicks;   /* kick eventfds signalled */
	atomic_long_t dropped; /* kick bits of queues with no kick eventfd */
	atomic_long_t raises;
	atomic_long_t refused; /* raises keel answered with an error */
};

/* A queue's call eventfd, irqfd-style: its wakeups become raises. */
struct keel_call {
	struct keel_chan *chan;
	u32 queue;
	struct eventfd_ctx *ctx; /* NULL: detached */
	wait_queue_entry_t wait;
	poll_table pt;
};

struct keel_file;

struct keel_chan {
	struct kref ref; /* probe's, and one per open /dev/keel */
	struct pci_dev *pdev;
	void __iomem *regs;
	struct keel_chan_shared *shared; /* BAR2, keel's pages */
	struct miscdevice misc;          /* /dev/keel, for keeld */
	int irq;
	/* ioctls against each other and teardown; read/poll use the mapping */
	struct mutex lock;
	bool gone; /* removed: open files get -ENODEV */
	struct keel_file *owner; /* the open file that owns the queues */
	spinlock_t kick_lock;    /* kick[] against the interrupt handler */
	struct eventfd_ctx *kick[KEEL_CHAN_MAX_QUEUES];
	struct keel_call call[KEEL_CHAN_MAX_QUEUES];
	wait_queue_head_t wq; /* pollers of /dev/keel */
	u32 irq_seq, irq_state; /* what the interrupt handler saw last */
	struct keel_stats stats;
};

/* An open /dev/keel. */
struct keel_file {
	struct keel_chan *chan;
	bool has_read;   /* seq and guest_state below are valid */
	u32 seq;         /* of the last snapshot this file read */
	u32 guest_state;
};

/* The bound channel: keel shows its companion one. */
static DEFINE_MUTEX(keel_lock);
static struct keel_chan *keel_bound;

static void keel_chan_free(struct kref *ref)
{
	kfree(container_of(ref, struct keel_chan, ref));
}

/*
 * BAR2 is memory keel shares with the companion (write-back RAM, not
 * registers): map it as such and check what keel put there.
 */
static int keel_map_shared(struct keel_chan *chan)
{
	struct pci_dev *pdev = chan->pdev;
	struct keel_chan_shared *sh;
	int ret;

	if (pci_resource_len(pdev, KEEL_CHAN_SHARED_BAR) < KEEL_CHAN_SHARED_SIZE) {
		pr_err("%s: BAR2 is smaller than the shared window (%u bytes)\n",
		       pci_name(pdev), KEEL_CHAN_SHARED_SIZE);
		return -ENODEV;
	}
	ret = pci_request_region(pdev, KEEL_CHAN_SHARED_BAR, KBUILD_MODNAME);
	if (ret) {
		pr_err("%s: BAR2 is busy (%d)\n", pci_name(pdev), ret);
		return ret;
	}
	sh = memremap(pci_resource_start(pdev, KEEL_CHAN_SHARED_BAR),
		      KEEL_CHAN_SHARED_SIZE, MEMREMAP_WB);
	if (!sh) {
		pr_err("%s: cannot map BAR2\n", pci_name(pdev));
		ret = -ENOMEM;
		goto err_release;
	}
	if (sh->magic != KEEL_CHAN_MAGIC ||
	    sh->abi_version != KEEL_CHAN_ABI_VERSION) {
		pr_err("%s: BAR2 holds no keel channel window of version %u (magic %#x, version %u)\n",
		       pci_name(pdev), KEEL_CHAN_ABI_VERSION, sh->magic,
		       sh->abi_version);
		ret = -ENODEV;
		goto err_unmap;
	}
	pr_info("%s: guest disk: %u request queue(s) of %u, wwpn %.*s, %.*s %.*s; guest RAM at %#llx, %llu MiB\n",
		pci_name(pdev), sh->disk_queues, sh->disk_queue_size,
		(int)sizeof(sh->disk_wwpn), sh->disk_wwpn,
		(int)sizeof(sh->disk_backstore), sh->disk_backstore,
		(int)sizeof(sh->disk_path), sh->disk_path,
		(unsigned long long)sh->guest_ram_phys,
		(unsigned long long)sh->guest_ram_size >> 20);
	chan->shared = sh;
	return 0;

err_unmap:
	memunmap(sh);
err_release:
	pci_release_region(pdev, KEEL_CHAN_SHARED_BAR);
	return ret;
}

static void keel_unmap_shared(struct keel_chan *chan)
{
	memunmap(chan->shared);
	pci_release_region(chan->pdev, KEEL_CHAN_SHARED_BAR);
}

/*
 * keel's MSI: kick bits to take, or a new device request or guest state.
 * Kick bits may already have been taken by the previous interrupt, so an
 * interrupt with nothing to do is still ours.
 */
static irqreturn_t keel_irq(int irq, void *data)
{
	struct keel_chan *chan = data;
	struct keel_chan_shared *sh = chan->shared;
	unsigned long kicks = xchg(&sh->kicks, 0);
	struct eventfd_ctx *ctx;
	unsigned int q;
	u32 seq, state;

	atomic_long_inc(&chan->stats.irqs);
	spin_lock(&chan->kick_lock);
	for_each_set_bit(q, &kicks, BITS_PER_LONG) {
		ctx = q < KEEL_CHAN_MAX_QUEUES ? chan->kick[q] : NULL;
		if (ctx) {
			eventfd_signal(ctx, 1);
			atomic_long_inc(&chan->stats.kicks);
		} else {
			atomic_long_inc(&chan->stats.dropped);
		}
	}
	spin_unlock(&chan->kick_lock);

	seq = READ_ONCE(sh->device.seq);
	state = READ_ONCE(sh->guest_state);
	if (seq != chan->irq_seq || state != chan->irq_state) {
		chan->irq_seq = seq;
		chan->irq_state = state;
		wake_up_interruptible(&chan->wq);
	}
	return IRQ_HANDLED;
}

static void keel_raise(struct keel_chan *chan, u32 queue)
{
	long ret = keel_hypercall(KEEL_HC_RAISE, queue, 0);

	if (ret < 0) {
		atomic_long_inc(&chan->stats.refused);
		pr_warn_ratelimited("queue %u: keel refused the raise (%ld)\n",
				    queue, ret);
		return;
	}
	atomic_long_inc(&chan->stats.raises);
}

/*
 * A wakeup of the call eventfd's wait queue, under its lock with interrupts
 * off (eventfd_signal() holds it): take the count, which folds any number
 * of signals into this one raise.
 */
static int keel_call_wake(wait_queue_entry_t *wait, unsigned int mode,
			  int sync, void *key)
{
	struct keel_call *call = container_of(wait, struct keel_call, wait);
	u64 cnt;

	if (key_to_poll(key) & EPOLLIN) {
		eventfd_ctx_do_read(call->ctx, &cnt);
		keel_raise(call->chan, call->queue);
	}
	return 0;
}

static void keel_call_queue(struct file *file, wait_queue_head_t *wqh,
			    poll_table *pt)
{
	struct keel_call *call = container_of(pt, struct keel_call, pt);

	add_wait_queue(wqh, &call->wait);
}

/* Returns whether an eventfd was attached; its pending count is dropped. */
static bool keel_call_detach(struct keel_call *call)
{
	u64 cnt;

	if (!call->ctx)
		return false;
	eventfd_ctx_remove_wait_queue(call->ctx, &call->wait, &cnt);
	eventfd_ctx_put(call->ctx);
	call->ctx = NULL;
	return true;
}

static int keel_set_call(struct keel_chan *chan, u32 queue, int fd)
{
	struct keel_call *call = &chan->call[queue];
	struct eventfd_ctx *ctx;
	__poll_t events;
	struct fd f;

	if (fd == -1) {
		if (keel_call_detach(call))
			pr_debug("queue %u: call eventfd detached\n", queue);
		return 0;
	}
	f = fdget(fd);
	if (!f.file)
		return -EBADF;
	ctx = eventfd_ctx_fileget(f.file);
	if (IS_ERR(ctx)) {
		fdput(f);
		return PTR_ERR(ctx);
	}
	keel_call_detach(call);
	call->ctx = ctx;
	init_waitqueue_func_entry(&call->wait, keel_call_wake);
	init_poll_funcptr(&call->pt, keel_call_queue);
	events = vfs_poll(f.file, &call->pt);
	fdput(f);
	/* signalled before it was attached: that call is due too */
	if (events & EPOLLIN)
		keel_raise(chan, queue);
	pr_debug("queue %u: call eventfd attached\n", queue);
	return 0;
}

/* @ctx: the new kick eventfd, NULL to detach. */
static void keel_swap_kick(struct keel_chan *chan, u32 queue,
			   struct eventfd_ctx *ctx)
{
	struct eventfd_ctx *old;

	spin_lock_irq(&chan->kick_lock);
	old = chan->kick[queue];
	chan->kick[queue] = ctx;
	spin_unlock_irq(&chan->kick_lock);
	if (old)
		eventfd_ctx_put(old);
	if (ctx)
		pr_debug("queue %u: kick eventfd attached\n", queue);
	else if (old)
		pr_debug("queue %u: kick eventfd detached\n", queue);
}

static int keel_set_kick(struct keel_chan *chan, u32 queue, int fd)
{
	struct eventfd_ctx *ctx = NULL;

	if (fd != -1) {
		ctx = eventfd_ctx_fdget(fd);
		if (IS_ERR(ctx))
			return PTR_ERR(ctx);
	}
	keel_swap_kick(chan, queue, ctx);
	return 0;
}

/*
 * Kicks first: once they are detached no new request reaches vhost, while
 * the requests it still serves can complete and raise through the call
 * eventfds. Dropping the calls first could leave the guest waiting for
 * completions nobody signals. Returns how many call eventfds were dropped.
 */
static unsigned int keel_detach_all(struct keel_chan *chan)
{
	unsigned int q, calls = 0;

	lockdep_assert_held(&chan->lock);
	for (q = 0; q < KEEL_CHAN_MAX_QUEUES; q++)
		keel_swap_kick(chan, q, NULL);
	for (q = 0; q < KEEL_CHAN_MAX_QUEUES; q++)
		calls += keel_call_detach(&chan->call[q]);
	chan->owner = NULL;
	return calls;
}

/*
 * A copy of the shared window whose device part is consistent: copied
 * between two equal, even reads of its sequence lock (keel_abi.h).
 */
static void keel_snapshot(const struct keel_chan_shared *sh,
			  struct keel_chan_shared *snap)
{
	const struct keel_chan_device *dev = &sh->device;
	u32 seq;

	memcpy(snap, sh, offsetof(struct keel_chan_shared, device));
	snap->guest_state = READ_ONCE(sh->guest_state);
	for (;;) {
		seq = READ_ONCE(dev->seq);
		if (!(seq & 1)) {
			smp_rmb(); /* seq before the fields: keel's odd seq first */
			memcpy(&snap->device, dev, sizeof(*dev));
			smp_rmb(); /* the fields before seq again: keel's even last */
			if (READ_ONCE(dev->seq) == seq)
				break;
		}
		cpu_relax();
	}
	snap->device.seq = seq;
}

/*
 * read(2): one snapshot, at offset 0, into a buffer that holds all of it;
 * after it, end of file (pread(2) at 0 takes a fresh one).
 */
static ssize_t keel_read(struct file *file, char __user *buf, size_t len,
			 loff_t *pos)
{
	struct keel_file *kf = file->private_data;
	struct keel_chan *chan = kf->chan;
	struct keel_chan_shared *snap;
	ssize_t ret = sizeof(*snap);

	if (*pos >= sizeof(*snap))
		return 0;
	if (*pos || len < sizeof(*snap))
		return -EINVAL;
	snap = kmalloc(sizeof(*snap), GFP_KERNEL);
	if (!snap)
		return -ENOMEM;
	mutex_lock(&chan->lock);
	if (chan->gone) {
		ret = -ENODEV;
	} else {
		keel_snapshot(chan->shared, snap);
		if (copy_to_user(buf, snap, sizeof(*snap))) {
			ret = -EFAULT;
		} else {
			kf->has_read = true;
			kf->seq = snap->device.seq;
			kf->guest_state = snap->guest_state;
			*pos += ret;
		}
	}
	mutex_unlock(&chan->lock);
	kfree(snap);
	return ret;
}

static __poll_t keel_poll(struct file *file, poll_table *wait)
{
	struct keel_file *kf = file->private_data;
	struct keel_chan *chan = kf->chan;
	__poll_t mask = 0;

	poll_wait(file, &chan->wq, wait);
	mutex_lock(&chan->lock);
	if (chan->gone)
		mask = EPOLLERR | EPOLLHUP;
	else if (!kf->has_read ||
		 READ_ONCE(chan->shared->device.seq) != kf->seq ||
		 READ_ONCE(chan->shared->guest_state) != kf->guest_state)
		mask = EPOLLIN | EPOLLRDNORM;
	mutex_unlock(&chan->lock);
	return mask;
}

/* The first file that sets a kick or call owns the queues until it closes. */
static long keel_set_queue_fd(struct keel_file *kf, unsigned int cmd,
			      void __user *uarg)
{
	struct keel_chan *chan = kf->chan;
	struct keel_queue_fd qfd;
	long ret;

	if (copy_from_user(&qfd, uarg, sizeof(qfd)))
		return -EFAULT;
	if (qfd.queue >= KEEL_CHAN_MAX_QUEUES)
		return -EINVAL;
	mutex_lock(&chan->lock);
	if (chan->gone)
		ret = -ENODEV;
	else if (chan->owner && chan->owner != kf)
		ret = -EBUSY;
	else if (cmd == KEEL_IOC_SET_KICK)
		ret = keel_set_kick(chan, qfd.queue, qfd.fd);
	else
		ret = keel_set_call(chan, qfd.queue, qfd.fd);
	if (!ret)
		chan->owner = kf;
	mutex_unlock(&chan->lock);
	return ret;
}

/*
 * keel's answer as the ioctl's: a value >= 0 as it is, KEEL_E* as errnos.
 * ENOSYS means an unknown system call to user space, so an unknown
 * hypercall (an older keel) is EOPNOTSUPP.
 */
static long keel_errno(long ret)
{
	if (ret >= 0)
		return ret;
	switch (ret) {
	case -KEEL_EBUSY:
		return -EBUSY;
	case -KEEL_EFAULT:
		return -EFAULT;
	case -KEEL_EINVAL:
		return -EINVAL;
	case -KEEL_ENOSPC:
		return -ENOSPC;
	case -KEEL_ENOSYS:
		return -EOPNOTSUPP;
	case -KEEL_EBADMSG:
		return -EBADMSG;
	case -KEEL_ESTALE:
		return -ESTALE;
	default:
		return -EIO;
	}
}

/* One hypercall an ioctl makes, and keel's answer. */
struct keel_hc {
	unsigned long nr, arg, arg2;
	const struct keel_chan_reply *reply; /* to the window before the call */
	long ret; /* keel's answer: >= 0 or -KEEL_E* */
};

/*
 * Makes @hc under the channel's lock: 0, or -ENODEV once the device is gone
 * (no hypercall then).
 */
static int keel_hc(struct keel_chan *chan, struct keel_hc *hc)
{
	mutex_lock(&chan->lock);
	if (chan->gone) {
		mutex_unlock(&chan->lock);
		return -ENODEV;
	}
	if (hc->reply) {
		memcpy(&chan->shared->reply, hc->reply, sizeof(*hc->reply));
		wmb(); /* the reply before the ACK that has keel read it */
	}
	hc->ret = keel_hypercall(hc->nr, hc->arg, hc->arg2);
	mutex_unlock(&chan->lock);
	return 0;
}

/* KEEL_IOC_ACK and KEEL_IOC_FAIL: request number @uarg is done, or not. */
static long keel_answer(struct keel_file *kf, unsigned int cmd,
			u32 __user *uarg)
{
	bool ack = cmd == KEEL_IOC_ACK;
	struct keel_hc hc = { .nr = ack ? KEEL_HC_ACK : KEEL_HC_FAIL };
	u32 n;
	int err;

	if (get_user(n, uarg))
		return -EFAULT;
	hc.arg = n;
	err = keel_hc(kf->chan, &hc);
	if (err)
		return err;
	if (hc.ret < 0)
		pr_warn("request %u: keel refused the %s (%ld)\n", n,
			ack ? "ack" : "failure", hc.ret);
	else
		pr_info("request %u %s\n", n,
			ack ? "acknowledged" : "failed: the guest's device needs a reset");
	return keel_errno(hc.ret);
}

/* KEEL_IOC_ACK_BASES: a handoff stop is done, with the queues' bases */
static long keel_ack_bases(struct keel_file *kf,
			   struct keel_chan_reply __user *uarg)
{
	struct keel_chan_reply reply;
	struct keel_hc hc = { .nr = KEEL_HC_ACK, .reply = &reply };
	int err;

	if (copy_from_user(&reply, uarg, sizeof(reply)))
		return -EFAULT;
	reply.reserved = 0;
	hc.arg = reply.n;
	err = keel_hc(kf->chan, &hc);
	if (err)
		return err;
	if (hc.ret < 0)
		pr_warn("request %u: keel refused the handoff stop's ack (%ld)\n",
			reply.n, hc.ret);
	else
		pr_info("request %u acknowledged with the queues' bases\n",
			reply.n);
	return keel_errno(hc.ret);
}

/* The handoff's hypercalls without arguments */
static const struct keel_handoff_call {
	unsigned int cmd;
	unsigned long nr;
	const char *name;
} keel_handoff_calls[] = {
	{ KEEL_IOC_PAUSE, KEEL_HC_PAUSE, "pause" },
	{ KEEL_IOC_RESUME, KEEL_HC_RESUME, "resume" },
	{ KEEL_IOC_HANDOFF_STOP, KEEL_HC_HANDOFF_STOP, "handoff stop" },
	{ KEEL_IOC_DROP, KEEL_HC_DROP, "drop" },
	{ KEEL_IOC_HANDOFF_START, KEEL_HC_HANDOFF_START, "handoff start" },
};

static long keel_handoff(struct keel_file *kf,
			 const struct keel_handoff_call *call)
{
	struct keel_hc hc = { .nr = call->nr };
	int err = keel_hc(kf->chan, &hc);

	if (err)
		return err;
	if (hc.ret < 0)
		pr_warn("guest %s: keel refused (%ld)\n", call->name, hc.ret);
	else
		pr_info("guest %s: keel answered %ld\n", call->name, hc.ret);
	return keel_errno(hc.ret);
}

/* STATE_GET: keel's stream, from the buffer it wrote to user space */
static long keel_state_out(struct keel_state_buf __user *uarg,
			   const struct keel_state_buf *sb, const void *buf,
			   long len)
{
	if (len > KEEL_STATE_MAX)
		return -EIO; /* more than keel may write */
	if (len > sb->len)
		return -ENOSPC;
	if (copy_to_user(u64_to_user_ptr(sb->addr), buf, len) ||
	    put_user((u32)len, &uarg->written))
		return -EFAULT;
	pr_info("guest state get: %ld bytes\n", len);
	return 0;
}

/*
 * STATE_GET and STATE_SET: keel reads and writes companion-physical
 * memory, so the stream goes through a physically contiguous buffer.
 */
static long keel_state(struct keel_file *kf, unsigned int cmd,
		       struct keel_state_buf __user *uarg)
{
	bool get = cmd == KEEL_IOC_STATE_GET;
	bool check = cmd == KEEL_IOC_STATE_CHECK;
	struct keel_state_buf sb;
	struct keel_hc hc;
	void *buf;
	long err;

	if (copy_from_user(&sb, uarg, sizeof(sb)))
		return -EFAULT;
	if (!get && sb.len > KEEL_STATE_MAX)
		return -EINVAL;
	buf = kzalloc(KEEL_STATE_MAX, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	hc = (struct keel_hc){
		.nr = get ? KEEL_HC_STATE_GET :
		      check ? KEEL_HC_STATE_CHECK : KEEL_HC_STATE_SET,
		.arg = virt_to_phys(buf),
		.arg2 = get ? KEEL_STATE_MAX : sb.len,
	};
	if (!get && copy_from_user(buf, u64_to_user_ptr(sb.addr), sb.len))
		err = -EFAULT;
	else
		err = keel_hc(kf->chan, &hc);
	if (err)
		goto out;
	if (hc.ret < 0) {
		pr_warn("guest state %s: keel refused (%ld)\n",
			get ? "get" : check ? "check" : "set", hc.ret);
		err = keel_errno(hc.ret);
	} else if (get) {
		err = keel_state_out(uarg, &sb, buf, hc.ret);
	} else if (check) {
		err = 0;
	} else {
		pr_info("guest state set: %u bytes, start request %ld\n",
			sb.len, hc.ret);
		err = hc.ret;
	}
out:
	kfree(buf);
	return err;
}

/*
 * DIRTY_LOG: keel writes the bitmap to companion-physical memory, so it
 * goes through a physically contiguous buffer too.
 */
static long keel_dirty_log(struct keel_file *kf,
			   struct keel_state_buf __user *uarg)
{
	struct keel_hc hc = { .nr = KEEL_HC_DIRTY_LOG };
	struct keel_state_buf sb;
	void *buf;
	long err;

	if (copy_from_user(&sb, uarg, sizeof(sb)))
		return -EFAULT;
	if (!sb.len || sb.len % 8 || sb.len > KEEL_DIRTY_LOG_MAX)
		return -EINVAL;
	buf = kzalloc(sb.len, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	hc.arg = virt_to_phys(buf);
	hc.arg2 = sb.len;
	err = keel_hc(kf->chan, &hc);
	if (err)
		goto out;
	if (hc.ret < 0) {
		pr_warn("guest dirty log: keel refused (%ld)\n", hc.ret);
		err = keel_errno(hc.ret);
	} else if (copy_to_user(u64_to_user_ptr(sb.addr), buf, sb.len) ||
		   put_user((u32)hc.ret, &uarg->written)) {
		err = -EFAULT;
	} else {
		pr_info("guest dirty log: %ld pages\n", hc.ret);
	}
out:
	kfree(buf);
	return err;
}

static long keel_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct keel_file *kf = file->private_data;
	unsigned int i;

	switch (cmd) {
	case KEEL_IOC_SET_KICK:
	case KEEL_IOC_SET_CALL:
		return keel_set_queue_fd(kf, cmd, (void __user *)arg);
	case KEEL_IOC_ACK:
	case KEEL_IOC_FAIL:
		return keel_answer(kf, cmd, (u32 __user *)arg);
	case KEEL_IOC_ACK_BASES:
		return keel_ack_bases(kf, (void __user *)arg);
	case KEEL_IOC_STATE_GET:
	case KEEL_IOC_STATE_SET:
	case KEEL_IOC_STATE_CHECK:
		return keel_state(kf, cmd, (void __user *)arg);
	case KEEL_IOC_DIRTY_LOG:
		return keel_dirty_log(kf, (void __user *)arg);
	}
	for (i = 0; i < ARRAY_SIZE(keel_handoff_calls); i++)
		if (keel_handoff_calls[i].cmd == cmd)
			return keel_handoff(kf, &keel_handoff_calls[i]);
	return -ENOTTY;
}

/* misc_open() holds misc_mtx, so remove() cannot free the channel here. */
static int keel_open(struct inode *inode, struct file *file)
{
	struct keel_chan *chan = container_of(file->private_data,
					      struct keel_chan, misc);
	struct keel_file *kf;

	kf = kzalloc(sizeof(*kf), GFP_KERNEL);
	if (!kf)
		return -ENOMEM;
	kref_get(&chan->ref);
	kf->chan = chan;
	file->private_data = kf;
	return 0;
}

static int keel_release(struct inode *inode, struct file *file)
{
	struct keel_file *kf = file->private_data;
	struct keel_chan *chan = kf->chan;
	unsigned int calls;

	mutex_lock(&chan->lock);
	if (chan->owner == kf) {
		calls = keel_detach_all(chan);
		pr_info("/dev/keel closed: kicks detached, %u call eventfds dropped\n",
			calls);
	}
	mutex_unlock(&chan->lock);
	kref_put(&chan->ref, keel_chan_free);
	kfree(kf);
	return 0;
}

static const struct file_operations keel_fops = {
	.owner = THIS_MODULE,
	.open = keel_open,
	.release = keel_release,
	.read = keel_read,
	.poll = keel_poll,
	.unlocked_ioctl = keel_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = default_llseek,
};

/* keel signals kicks and requests with one MSI; nothing else will do. */
static int keel_setup_irq(struct keel_chan *chan)
{
	struct pci_dev *pdev = chan->pdev;
	int ret;

	ret = pci_alloc_irq_vectors(pdev, 1, 1, PCI_IRQ_MSI);
	if (ret < 0) {
		pr_err("%s: no MSI: keel cannot signal kicks (%d); not binding\n",
		       pci_name(pdev), ret);
		return -ENODEV;
	}
	chan->irq = pci_irq_vector(pdev, 0);
	chan->irq_seq = READ_ONCE(chan->shared->device.seq);
	chan->irq_state = READ_ONCE(chan->shared->guest_state);
	ret = request_irq(chan->irq, keel_irq, 0, KBUILD_MODNAME, chan);
	if (ret) {
		pr_err("%s: cannot request IRQ %d (%d)\n", pci_name(pdev),
		       chan->irq, ret);
		pci_free_irq_vectors(pdev);
		return ret;
	}
	/* keel sends the MSI only while bus mastering is on */
	pci_set_master(pdev);
	return 0;
}

static void keel_free_irq(struct keel_chan *chan)
{
	free_irq(chan->irq, chan);
	pci_free_irq_vectors(chan->pdev);
}

static struct keel_chan *keel_chan_alloc(struct pci_dev *pdev)
{
	struct keel_chan *chan;
	unsigned int q;

	chan = kzalloc(sizeof(*chan), GFP_KERNEL);
	if (!chan)
		return NULL;
	kref_init(&chan->ref);
	chan->pdev = pdev;
	mutex_init(&chan->lock);
	spin_lock_init(&chan->kick_lock);
	init_waitqueue_head(&chan->wq);
	for (q = 0; q < KEEL_CHAN_MAX_QUEUES; q++) {
		chan->call[q].chan = chan;
		chan->call[q].queue = q;
	}
	return chan;
}

static int keel_register(struct keel_chan *chan)
{
	struct pci_dev *pdev = chan->pdev;
	int ret;

	mutex_lock(&keel_lock);
	if (keel_bound) {
		pr_err("%s: a channel device is already bound\n", pci_name(pdev));
		ret = -EBUSY;
		goto out;
	}
	chan->misc = (struct miscdevice){
		.minor = MISC_DYNAMIC_MINOR,
		.name = "keel",
		.fops = &keel_fops,
		.mode = 0600,
	};
	ret = misc_register(&chan->misc);
	if (ret) {
		pr_err("%s: cannot register /dev/keel (%d)\n", pci_name(pdev), ret);
		goto out;
	}
	keel_bound = chan;
out:
	mutex_unlock(&keel_lock);
	return ret;
}

static int keel_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct keel_chan *chan;
	u32 version;
	int ret;

	if (!(pci_resource_flags(pdev, 0) & IORESOURCE_MEM) ||
	    pci_resource_len(pdev, 0) < KEEL_CHAN_REGS_MIN_LEN) {
		pr_err("%s: BAR0 is not a memory window of at least %u bytes\n",
		       pci_name(pdev), KEEL_CHAN_REGS_MIN_LEN);
		return -ENODEV;
	}

	chan = keel_chan_alloc(pdev);
	if (!chan)
		return -ENOMEM;

	ret = pci_enable_device_mem(pdev);
	if (ret) {
		pr_err("%s: cannot enable the device (%d)\n", pci_name(pdev), ret);
		goto err_free;
	}

	ret = pci_request_region(pdev, 0, KBUILD_MODNAME);
	if (ret) {
		pr_err("%s: BAR0 is busy (%d)\n", pci_name(pdev), ret);
		goto err_disable;
	}

	chan->regs = pci_iomap(pdev, 0, 0);
	if (!chan->regs) {
		pr_err("%s: cannot map BAR0\n", pci_name(pdev));
		ret = -ENOMEM;
		goto err_release;
	}

	version = ioread32(chan->regs + KEEL_CHAN_REG_ABI_VERSION);
	pr_info("channel ABI version %u, device %s, BAR0 %pR\n",
		version, pci_name(pdev), &pdev->resource[0]);
	if (version != KEEL_CHAN_ABI_VERSION) {
		pr_err("%s: channel ABI version %u is not supported (this module speaks version %u); not binding\n",
		       pci_name(pdev), version, KEEL_CHAN_ABI_VERSION);
		ret = -ENODEV;
		goto err_unmap;
	}

	ret = keel_map_shared(chan);
	if (ret)
		goto err_unmap;

	ret = keel_setup_irq(chan);
	if (ret)
		goto err_shared;

	ret = keel_register(chan);
	if (ret)
		goto err_irq;

	pci_set_drvdata(pdev, chan);
	pr_info("%s: channel device bound, MSI on IRQ %d, /dev/keel ready\n",
		pci_name(pdev), chan->irq);
	return 0;

err_irq:
	keel_free_irq(chan);
err_shared:
	keel_unmap_shared(chan);
err_unmap:
	pci_iounmap(pdev, chan->regs);
err_release:
	pci_release_region(pdev, 0);
err_disable:
	pci_disable_device(pdev);
err_free:
	kfree(chan);
	return ret;
}

/*
 * Also while keeld holds /dev/keel open (the device unbound through sysfs):
 * its queues are detached here and its calls get -ENODEV; the channel is
 * freed when it closes.
 */
static void keel_remove(struct pci_dev *pdev)
{
	struct keel_chan *chan = pci_get_drvdata(pdev);
	struct keel_stats *st = &chan->stats;
	unsigned int calls = 0;
	bool owned;

	mutex_lock(&keel_lock);
	misc_deregister(&chan->misc);
	keel_bound = NULL;
	mutex_unlock(&keel_lock);

	keel_free_irq(chan);
	mutex_lock(&chan->lock);
	chan->gone = true;
	owned = chan->owner;
	if (owned)
		calls = keel_detach_all(chan);
	mutex_unlock(&chan->lock);
	wake_up_interruptible(&chan->wq);
	if (owned)
		pr_info("%s: removed with /dev/keel open: kicks detached, %u call eventfds dropped\n",
			pci_name(pdev), calls);

	pr_info("%s: %ld interrupts, %ld kicks signalled, %ld dropped (no eventfd), %ld raises, %ld refused\n",
		pci_name(pdev), atomic_long_read(&st->irqs),
		atomic_long_read(&st->kicks), atomic_long_read(&st->dropped),
		atomic_long_read(&st->raises), atomic_long_read(&st->refused));
	keel_unmap_shared(chan);
	pci_iounmap(pdev, chan->regs);
	pci_release_region(pdev, 0);
	pci_disable_device(pdev);
	pr_info("%s: channel device released\n", pci_name(pdev));
	kref_put(&chan->ref, keel_chan_free);
}

static const struct pci_device_id keel_pci_ids[] = {
	{ PCI_DEVICE(KEEL_CHAN_VENDOR_ID, KEEL_CHAN_DEVICE_ID) },
	{ }
};
MODULE_DEVICE_TABLE(pci, keel_pci_ids);

static struct pci_driver keel_pci_driver = {
	.name = KBUILD_MODNAME,
	.id_table = keel_pci_ids,
	.probe = keel_probe,
	.remove = keel_remove,
};

static int __init keel_init(void)
{
	int ret;

	BUILD_BUG_ON(sizeof(struct keel_chan_shared) > KEEL_CHAN_SHARED_SIZE);
	BUILD_BUG_ON(KEEL_CHAN_MAX_QUEUES > BITS_PER_LONG);

	ret = pci_register_driver(&keel_pci_driver);
	if (ret) {
		pr_err("cannot register the PCI driver (%d)\n", ret);
		return ret;
	}
	pr_info("module loaded, waiting for keel's channel device\n");
	return 0;
}

static void __exit keel_exit(void)
{
	pci_unregister_driver(&keel_pci_driver);
	pr_info("module unloaded\n");
}

module_init(keel_init);
module_exit(keel_exit);

MODULE_DESCRIPTION("keel hypervisor channel device (companion side)");
MODULE_AUTHOR("keel developers");
MODULE_LICENSE("GPL");
