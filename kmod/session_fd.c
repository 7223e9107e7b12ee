// SPDX-License-Identifier: GPL-2.0
/*
 * The VMM's side of a session: KVMMIG_CREATE_SESSION, the session fd
 * (poll, GET_INFO, ACK, PUT_BLOB, GET_BLOB; closing it ends the session),
 * and migd's KVMMIG_OPEN_SESSION_REGION.  Argument checks follow the
 * errors uapi/linux/kvmmig.h lists, in the order it lists them.
 */

#include <linux/anon_inodes.h>
#include <linux/capability.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/module.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "region.h"
#include "session.h"

/* NUL-terminated, zero after the NUL; @ok says which bytes may appear. */
static bool kvmmig_name_ok(const char *name, size_t size, bool may_be_empty,
			   bool (*ok)(char c, size_t pos))
{
	size_t len = strnlen(name, size), i;

	if (len == size || (!len && !may_be_empty))
		return false;
	for (i = 0; i < len; i++)
		if (!ok(name[i], i))
			return false;
	for (i = len; i < size; i++)
		if (name[i])
			return false;
	return true;
}

/*
 * Session names end up on migd's command line and in /run/migd/NAME.pid:
 * ASCII letters, digits, '_', '-' and '.', not starting with '.' or '-'.
 * (The kernel's isalnum() also takes Latin-1 letters.)
 */
static bool kvmmig_session_name_char(char c, size_t pos)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '_')
		return true;
	return pos && (c == '-' || c == '.');
}

static bool kvmmig_blob_name_char(char c, size_t pos)
{
	return kvmmig_printable(c);
}

static __poll_t kvmmig_session_poll(struct file *file, poll_table *wait)
{
	struct kvmmig_session *s = file->private_data;

	poll_wait(file, &s->wq, wait);
	if (READ_ONCE(s->seq) != READ_ONCE(s->seq_read))
		return EPOLLIN | EPOLLRDNORM;
	return 0;
}

static long kvmmig_session_get_info(struct kvmmig_session *s,
				    void __user *argp)
{
	struct kvmmig_session_info info;

	if (copy_from_user(&info, argp, sizeof(info)))
		return -EFAULT;
	if (info.flags)
		return -EOPNOTSUPP;

	memset(&info, 0, sizeof(info));
	mutex_lock(&s->lock);
	info.state = s->state;
	info.id = s->id;
	info.nr_blobs = s->nr_blobs;
	info.seq = s->seq;
	info.blob_bytes = s->blob_bytes;
	WRITE_ONCE(s->seq_read, s->seq);
	mutex_unlock(&s->lock);

	if (copy_to_user(argp, &info, sizeof(info)))
		return -EFAULT;
	return 0;
}

static long kvmmig_session_ack(struct kvmmig_session *s, void __user *argp)
{
	struct kvmmig_session_ack ack;

	if (copy_from_user(&ack, argp, sizeof(ack)))
		return -EFAULT;
	if (ack.flags)
		return -EOPNOTSUPP;
	if (memchr_inv(ack.reserved, 0, sizeof(ack.reserved)))
		return -EINVAL;

	switch (ack.state) {
	case KVMMIG_SESSION_PAUSING:
		return kvmmig_session_ack_paused(s);
	case KVMMIG_SESSION_ARRIVED:
		return kvmmig_session_ack_arrived(s);
	default:
		return -EINVAL;
	}
}

/* Copy in the arguments of PUT or GET and check what they share. */
static int kvmmig_blob_args_get(struct kvmmig_session_blob *args,
				void __user *argp)
{
	if (copy_from_user(args, argp, sizeof(*args)))
		return -EFAULT;
	if (args->flags)
		return -EOPNOTSUPP;
	if (args->pad || memchr_inv(args->reserved, 0, sizeof(args->reserved)))
		return -EINVAL;
	return 0;
}

static long kvmmig_session_put_blob(struct kvmmig_session *s,
				    void __user *argp)
{
	struct kvmmig_session_blob args;
	struct kvmmig_blob *blob;
	int ret;

	ret = kvmmig_blob_args_get(&args, argp);
	if (ret)
		return ret;
	if (args.kind < KVMMIG_BLOB_VCPU || args.kind > KVMMIG_BLOB_NESTED ||
	    !args.size || args.size > KVMMIG_BLOB_MAX_SIZE || args.index ||
	    !kvmmig_name_ok(args.name, sizeof(args.name), true,
			    kvmmig_blob_name_char))
		return -EINVAL;

	blob = kvmmig_blob_alloc(args.size);
	if (!blob)
		return -ENOMEM;
	blob->kind = args.kind;
	blob->instance = args.instance;
	memcpy(blob->name, args.name, sizeof(blob->name));
	if (copy_from_user(blob->data, u64_to_user_ptr(args.data), args.size)) {
		ret = -EFAULT;
		goto err_free;
	}
	ret = kvmmig_session_blob_add(s, KVMMIG_SESSION_PAUSING, blob);
	if (ret)
		goto err_free;
	return 0;

err_free:
	kvmmig_blob_free(blob);
	return ret;
}

/*
 * Runs under the session's lock: copy the blob out so that the copy to user
 * space, which may fault and wait for as long as the VMM lets it, holds no
 * lock.
 */
static int kvmmig_session_dup_blob(const struct kvmmig_blob *blob, void *arg)
{
	struct kvmmig_blob **copy = arg;

	*copy = kvmmig_blob_alloc(blob->size);
	if (!*copy)
		return -ENOMEM;
	(*copy)->kind = blob->kind;
	(*copy)->instance = blob->instance;
	memcpy((*copy)->name, blob->name, sizeof((*copy)->name));
	memcpy((*copy)->data, blob->data, blob->size);
	return 0;
}

static long kvmmig_session_get_blob(struct kvmmig_session *s,
				    void __user *argp)
{
	struct kvmmig_session_blob args;
	struct kvmmig_blob *blob;
	u32 room;
	int ret;

	ret = kvmmig_blob_args_get(&args, argp);
	if (ret)
		return ret;
	ret = kvmmig_session_blob_read(s, KVMMIG_SESSION_ARRIVED, args.index,
				       kvmmig_session_dup_blob, &blob);
	if (ret)
		return ret == -ENODATA ? -ENOENT : ret;

	room = args.size;
	args.kind = blob->kind;
	args.instance = blob->instance;
	args.size = blob->size;
	memcpy(args.name, blob->name, sizeof(args.name));
	if (room >= blob->size &&
	    copy_to_user(u64_to_user_ptr(args.data), blob->data, blob->size)) {
		ret = -EFAULT;
		goto out_free;
	}
	if (copy_to_user(argp, &args, sizeof(args))) {
		ret = -EFAULT;
		goto out_free;
	}
	ret = room < blob->size ? -ENOSPC : 0;
out_free:
	kvmmig_blob_free(blob);
	return ret;
}

static long kvmmig_session_ioctl(struct file *file, unsigned int cmd,
				 unsigned long arg)
{
	struct kvmmig_session *s = file->private_data;
	void __user *argp = (void __user *)arg;

	switch (cmd) {
	case KVMMIG_SESSION_GET_INFO:
		return kvmmig_session_get_info(s, argp);
	case KVMMIG_SESSION_ACK:
		return kvmmig_session_ack(s, argp);
	case KVMMIG_SESSION_PUT_BLOB:
		return kvmmig_session_put_blob(s, argp);
	case KVMMIG_SESSION_GET_BLOB:
		return kvmmig_session_get_blob(s, argp);
	default:
		return -ENOTTY;
	}
}

static int kvmmig_session_fd_release(struct inode *inode, struct file *file)
{
	kvmmig_session_end(file->private_data);
	return 0;
}

static const struct file_operations kvmmig_session_fops = {
	.owner		= THIS_MODULE,
	.release	= kvmmig_session_fd_release,
	.poll		= kvmmig_session_poll,
	.unlocked_ioctl	= kvmmig_session_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= noop_llseek,
};

static int kvmmig_create_session_check(const struct kvmmig_create_session *args)
{
	if (args->flags & ~KVMMIG_SESSION_FLAGS_ALL)
		return -EOPNOTSUPP;
	if (args->pad || memchr_inv(args->reserved, 0, sizeof(args->reserved)))
		return -EINVAL;
	if (!args->nr_regions || args->nr_regions > KVMMIG_SESSION_MAX_REGIONS)
		return -EINVAL;
	if (!kvmmig_name_ok(args->name, sizeof(args->name), false,
			    kvmmig_session_name_char))
		return -EINVAL;
	return 0;
}

/* Take the regions the fds name into @s. */
static int kvmmig_session_take_regions(struct kvmmig_session *s,
				       const struct kvmmig_create_session *args)
{
	s32 fds[KVMMIG_SESSION_MAX_REGIONS];
	struct file *file;
	u32 i;
	int ret;

	if (copy_from_user(fds, u64_to_user_ptr(args->region_fds),
			   args->nr_regions * sizeof(fds[0])))
		return -EFAULT;
	for (i = 0; i < args->nr_regions; i++) {
		file = fget(fds[i]);
		if (!file)
			return -EBADF;
		ret = kvmmig_session_add_region(s, file);
		fput(file);
		if (ret)
			return ret;
	}
	return 0;
}

int kvmmig_session_create(void __user *argp)
{
	struct kvmmig_create_session args;
	struct kvmmig_session *s;
	struct file *file;
	int fd, ret;

	if (copy_from_user(&args, argp, sizeof(args)))
		return -EFAULT;
	ret = kvmmig_create_session_check(&args);
	if (ret)
		return ret;

	s = kvmmig_session_alloc(args.name,
				 args.flags & KVMMIG_SESSION_F_INCOMING);
	if (!s)
		return -ENOMEM;
	ret = kvmmig_session_take_regions(s, &args);
	if (ret)
		goto err_put;

	ret = kvmmig_session_register(s);
	if (ret)
		goto err_put;
	args.id = s->id;
	if (copy_to_user(argp, &args, sizeof(args))) {
		ret = -EFAULT;
		goto err_unregister;
	}

	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0) {
		ret = fd;
		goto err_unregister;
	}
	file = anon_inode_getfile("[kvmmig-session]", &kvmmig_session_fops, s,
				  O_RDWR | O_CLOEXEC);
	if (IS_ERR(file)) {
		ret = PTR_ERR(file);
		goto err_put_fd;
	}

	/*
	 * Live before the fd is installed: once it is, another thread may
	 * close it and end the session at once.  From here on the file owns
	 * the session.
	 */
	kvmmig_session_go_live(s);
	fd_install(fd, file);
	return fd;

err_put_fd:
	put_unused_fd(fd);
err_unregister:
	kvmmig_session_unregister(s);
err_put:
	kvmmig_session_put(s);
	return ret;
}

int kvmmig_session_open_region(void __user *argp)
{
	struct kvmmig_open_session_region args;
	struct kvmmig_region *region;
	struct kvmmig_session *s;
	struct file *file = NULL;
	int ret;

	if (!capable(CAP_NET_ADMIN))
		return -EPERM;
	if (copy_from_user(&args, argp, sizeof(args)))
		return -EFAULT;
	if (args.flags & ~KVMMIG_OPEN_REGION_FLAGS_ALL)
		return -EOPNOTSUPP;
	if (args.pad || memchr_inv(args.reserved, 0, sizeof(args.reserved)))
		return -EINVAL;

	s = kvmmig_session_get_by_id(args.session_id);
	if (!s)
		return -ENOENT;
	mutex_lock(&s->lock);
	if (!s->live)
		ret = -ENOENT;
	else if (args.index >= s->nr_regions)
		ret = -ERANGE;
	else
		ret = 0;
	if (!ret)
		file = get_file(s->regions[args.index]);
	mutex_unlock(&s->lock);
	kvmmig_session_put(s);
	if (ret)
		return ret;

	region = file->private_data;
	args.size = (u64)kvmmig_region_nr_pages(region) << PAGE_SHIFT;
	memcpy(args.name, region->name, sizeof(args.name));
	if (copy_to_user(argp, &args, sizeof(args)))
		ret = -EFAULT;
	else
		ret = kvmmig_region_open_clone(file,
					       args.flags & KVMMIG_OPEN_REGION_F_RDONLY);
	fput(file);
	return ret;
}
