/* cesolock: the disk locks of running VMs, for every program of an ESXi shell session of the cesobed test bed.
 *
 * On a real host a powered-on VM holds VMFS locks on its disks: the writable (current) extent is locked exclusively
 * (open for read or write fails with EBUSY, "Device or resource busy"), the read-only parents of a snapshot chain are
 * locked shared (reads work, writes fail). CI runs as root, so file permissions cannot say so; instead every session
 * runs with LD_PRELOAD=cesolock.so, which refuses open/openat/fopen/creat/truncate/unlink/rename of a locked file with
 * EBUSY before the real call runs. That covers cat, dd, head, tail, cp, python's open(), and the shell's own
 * redirections (`cat > x`), i.e. every dynamically linked program.
 *
 * The lock table is $CESOBED_LOCKS (STATEDIR/locks), written by `cesobed serve` whenever a VM's power or snapshot
 * state changes: one line per locked file, "<st_dev> <st_ino> <X|S> <path>" (X exclusive, S shared/read-only).
 * Files are matched by device and inode, so any path to them (/vmfs/volumes/<name|uuid>/..., relative, a hard link)
 * is the same file. The table is re-read when its mtime/size/inode change.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

struct lk { unsigned long long dev, ino; char mode; };
static struct lk *tab;
static int ntab;
static struct stat seen;
static int loaded;

static void load(void) {
    const char *p = getenv("CESOBED_LOCKS");
    struct stat st;
    if (!p || syscall(SYS_newfstatat, AT_FDCWD, p, &st, 0) != 0) {
        ntab = 0;
        return;
    }
    if (loaded && st.st_ino == seen.st_ino && st.st_size == seen.st_size &&
        st.st_mtim.tv_sec == seen.st_mtim.tv_sec && st.st_mtim.tv_nsec == seen.st_mtim.tv_nsec)
        return;
    int fd = (int)syscall(SYS_openat, AT_FDCWD, p, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        ntab = 0;
        return;
    }
    size_t cap = (size_t)st.st_size + 1, n = 0;
    char *buf = malloc(cap);
    if (!buf) {
        close(fd);
        return;
    }
    for (;;) {
        ssize_t k = read(fd, buf + n, cap - 1 - n);
        if (k <= 0)
            break;
        n += (size_t)k;
        if (n == cap - 1)
            break;
    }
    close(fd);
    buf[n] = 0;
    free(tab);
    tab = NULL;
    ntab = 0;
    int lines = 0;
    for (size_t i = 0; i < n; i++)
        if (buf[i] == '\n')
            lines++;
    tab = calloc((size_t)lines + 1, sizeof *tab);
    for (char *s = buf; tab && *s;) {
        char *e = strchr(s, '\n');
        if (e)
            *e = 0;
        unsigned long long d, i;
        char m;
        if (sscanf(s, "%llu %llu %c", &d, &i, &m) == 3) {
            tab[ntab].dev = d;
            tab[ntab].ino = i;
            tab[ntab].mode = m;
            ntab++;
        }
        if (!e)
            break;
        s = e + 1;
    }
    free(buf);
    seen = st;
    loaded = 1;
}

/* 1 when the file exists and a running VM's lock forbids this access */
static int locked_at(int dirfd, const char *path, int writing, int nofollow) {
    if (!path)
        return 0;
    load();
    if (ntab == 0)
        return 0;
    struct stat st;
    if (syscall(SYS_newfstatat, dirfd, path, &st, nofollow ? AT_SYMLINK_NOFOLLOW : 0) != 0 || !S_ISREG(st.st_mode))
        return 0;
    for (int i = 0; i < ntab; i++)
        if (tab[i].dev == (unsigned long long)st.st_dev && tab[i].ino == (unsigned long long)st.st_ino)
            return tab[i].mode == 'X' || writing;
    return 0;
}

static int wr(int flags) { return (flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC); }

#define REAL(name, ret, ...) \
    static ret (*real_##name)(__VA_ARGS__); \
    if (!real_##name) real_##name = (ret(*)(__VA_ARGS__))dlsym(RTLD_NEXT, #name)

#define OPENLIKE(name)                                                             \
    int name(const char *path, int flags, ...) {                                   \
        mode_t mode = 0;                                                           \
        if (flags & (O_CREAT | O_TMPFILE)) {                                       \
            va_list ap;                                                            \
            va_start(ap, flags);                                                   \
            mode = va_arg(ap, mode_t);                                             \
            va_end(ap);                                                            \
        }                                                                          \
        REAL(name, int, const char *, int, ...);                                   \
        if (!(flags & O_PATH) && locked_at(AT_FDCWD, path, wr(flags), 0)) {        \
            errno = EBUSY;                                                         \
            return -1;                                                             \
        }                                                                          \
        return real_##name(path, flags, mode);                                     \
    }
OPENLIKE(open)
OPENLIKE(open64)

#define OPENATLIKE(name)                                                           \
    int name(int dirfd, const char *path, int flags, ...) {                        \
        mode_t mode = 0;                                                           \
        if (flags & (O_CREAT | O_TMPFILE)) {                                       \
            va_list ap;                                                            \
            va_start(ap, flags);                                                   \
            mode = va_arg(ap, mode_t);                                             \
            va_end(ap);                                                            \
        }                                                                          \
        REAL(name, int, int, const char *, int, ...);                              \
        if (!(flags & O_PATH) && locked_at(dirfd, path, wr(flags), 0)) {           \
            errno = EBUSY;                                                         \
            return -1;                                                             \
        }                                                                          \
        return real_##name(dirfd, path, flags, mode);                              \
    }
OPENATLIKE(openat)
OPENATLIKE(openat64)

/* the _FORTIFY_SOURCE entry points */
int __open_2(const char *path, int flags) { return open(path, flags); }
int __open64_2(const char *path, int flags) { return open64(path, flags); }
int __openat_2(int dirfd, const char *path, int flags) { return openat(dirfd, path, flags); }
int __openat64_2(int dirfd, const char *path, int flags) { return openat64(dirfd, path, flags); }

int creat(const char *path, mode_t mode) { return open(path, O_CREAT | O_WRONLY | O_TRUNC, mode); }
int creat64(const char *path, mode_t mode) { return open64(path, O_CREAT | O_WRONLY | O_TRUNC, mode); }

static int fwr(const char *m) { return m && (strchr(m, 'w') || strchr(m, 'a') || strchr(m, '+')); }

#define FOPENLIKE(name)                                                            \
    FILE *name(const char *path, const char *m) {                                  \
        REAL(name, FILE *, const char *, const char *);                            \
        if (locked_at(AT_FDCWD, path, fwr(m), 0)) {                                \
            errno = EBUSY;                                                         \
            return NULL;                                                           \
        }                                                                          \
        return real_##name(path, m);                                               \
    }
FOPENLIKE(fopen)
FOPENLIKE(fopen64)

FILE *freopen(const char *path, const char *m, FILE *f) {
    REAL(freopen, FILE *, const char *, const char *, FILE *);
    if (locked_at(AT_FDCWD, path, fwr(m), 0)) {
        errno = EBUSY;
        return NULL;
    }
    return real_freopen(path, m, f);
}

int truncate(const char *path, off_t len) {
    REAL(truncate, int, const char *, off_t);
    if (locked_at(AT_FDCWD, path, 1, 0)) {
        errno = EBUSY;
        return -1;
    }
    return real_truncate(path, len);
}

int unlink(const char *path) {
    REAL(unlink, int, const char *);
    if (locked_at(AT_FDCWD, path, 1, 1)) {
        errno = EBUSY;
        return -1;
    }
    return real_unlink(path);
}

int unlinkat(int dirfd, const char *path, int flags) {
    REAL(unlinkat, int, int, const char *, int);
    if (!(flags & AT_REMOVEDIR) && locked_at(dirfd, path, 1, 1)) {
        errno = EBUSY;
        return -1;
    }
    return real_unlinkat(dirfd, path, flags);
}

int rename(const char *a, const char *b) {
    REAL(rename, int, const char *, const char *);
    if (locked_at(AT_FDCWD, a, 1, 1) || locked_at(AT_FDCWD, b, 1, 1)) {
        errno = EBUSY;
        return -1;
    }
    return real_rename(a, b);
}

int renameat(int da, const char *a, int db, const char *b) {
    REAL(renameat, int, int, const char *, int, const char *);
    if (locked_at(da, a, 1, 1) || locked_at(db, b, 1, 1)) {
        errno = EBUSY;
        return -1;
    }
    return real_renameat(da, a, db, b);
}

int renameat2(int da, const char *a, int db, const char *b, unsigned int flags) {
    REAL(renameat2, int, int, const char *, int, const char *, unsigned int);
    if (locked_at(da, a, 1, 1) || locked_at(db, b, 1, 1)) {
        errno = EBUSY;
        return -1;
    }
    return real_renameat2(da, a, db, b, flags);
}
