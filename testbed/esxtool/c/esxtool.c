/* esxtool: the ESXi tools (vim-cmd, vmkfstools, esxcli) of the cesobed test bed, as a tiny client (libc only).
 * STATEDIR/bin/<tool> links here; each call is handed to `cesobed serve` over STATEDIR/tool.sock, which runs the tool
 * and streams back stdout, stderr and the exit code. Protocol: ../../cesobed/toolserver.go. ../main.go is
 * the same client in Go, built only when no C compiler is found (a Go binary's start alone costs ~0.7 ms more, which
 * misses the 2 ms-per-call budget).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

extern char **environ;

static const char *tool = "esxtool";

static void fail(const char *msg, const char *detail) {
    fprintf(stderr, "%s: %s%s%s\n", tool, msg, detail ? ": " : "", detail ? detail : "");
    exit(1);
}

static int write_full(int fd, const char *p, size_t n) {
    while (n > 0) {
        ssize_t k = write(fd, p, n);
        if (k < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            return -1;
        }
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

/* buffered reads from the socket: a whole answer usually arrives in one read */
static char ibuf[65536];
static size_t ipos, iend;
static int read_full(int fd, char *p, size_t n) {
    while (n > 0) {
        if (ipos == iend) {
            ssize_t k = read(fd, ibuf, sizeof ibuf);
            if (k < 0) {
                if (errno == EINTR)
                    continue;
                return -1;
            }
            if (k == 0)
                return -1;
            ipos = 0;
            iend = (size_t)k;
        }
        size_t m = iend - ipos < n ? iend - ipos : n;
        memcpy(p, ibuf + ipos, m);
        ipos += m;
        p += m;
        n -= m;
    }
    return 0;
}

static void put32(char *b, uint32_t v) {
    b[0] = (char)(v >> 24); b[1] = (char)(v >> 16); b[2] = (char)(v >> 8); b[3] = (char)v;
}

static uint32_t get32(const char *b) {
    const unsigned char *u = (const unsigned char *)b;
    return ((uint32_t)u[0] << 24) | ((uint32_t)u[1] << 16) | ((uint32_t)u[2] << 8) | u[3];
}

static int send_frame(int fd, char typ, const char *p, size_t n) {
    char h[5];
    h[0] = typ;
    put32(h + 1, (uint32_t)n);
    if (write_full(fd, h, 5) < 0)
        return -1;
    return n ? write_full(fd, p, n) : 0;
}

/* growable buffer */
static char *rb;
static size_t rlen, rcap;
static void add(const char *s, size_t n) {
    if (rlen + n + 1 > rcap) {
        rcap = (rlen + n + 1) * 2;
        rb = realloc(rb, rcap);
        if (!rb)
            fail("out of memory", NULL);
    }
    memcpy(rb + rlen, s, n);
    rlen += n;
}
static void adds(const char *s) { add(s, strlen(s)); }

/* STATEDIR: $CESOBED_STATE, else the directory above the link we were started through (STATEDIR/bin/<tool>). */
static char *state_dir(const char *argv0) {
    char *d = getenv("CESOBED_STATE");
    if (d && *d)
        return d;
    static char path[4096];
    struct stat st;
    if (strchr(argv0, '/')) {
        snprintf(path, sizeof path, "%s", argv0);
    } else {
        const char *p = getenv("PATH");
        path[0] = 0;
        while (p && *p) {
            const char *e = strchr(p, ':');
            size_t n = e ? (size_t)(e - p) : strlen(p);
            snprintf(path, sizeof path, "%.*s/%s", (int)n, p, argv0);
            if (stat(path, &st) == 0 && !S_ISDIR(st.st_mode))
                break;
            path[0] = 0;
            p = e ? e + 1 : NULL;
        }
    }
    for (int i = 0; i < 2; i++) { /* strip /<tool>, then /bin */
        char *s = strrchr(path, '/');
        if (!s)
            return NULL;
        *s = 0;
    }
    if (path[0] != '/') {
        static char abs[8192];
        char cwd[4096];
        if (!getcwd(cwd, sizeof cwd))
            return NULL;
        snprintf(abs, sizeof abs, "%s/%s", cwd, path[0] ? path : ".");
        return abs;
    }
    return path;
}

int main(int argc, char **argv) {
    const char *slash = strrchr(argv[0], '/');
    tool = slash ? slash + 1 : argv[0];
    if (strcmp(tool, "esxtool") == 0 && argc > 1) { /* esxtool vim-cmd ARGS... also works */
        argv++;
        argc--;
        slash = strrchr(argv[0], '/');
        tool = slash ? slash + 1 : argv[0];
    }
    char *dir = state_dir(argv[0]);
    if (!dir)
        fail("CESOBED_STATE not set and no STATEDIR found (is `cesobed serve` running?)", NULL);

    struct sockaddr_un sa;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    if ((size_t)snprintf(sa.sun_path, sizeof sa.sun_path, "%s/tool.sock", dir) >= sizeof sa.sun_path)
        fail("STATEDIR path too long for a unix socket", dir);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        fail("socket", strerror(errno));
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0)
        fail("cannot reach cesobed serve", sa.sun_path);

    /* request: cwd, argc, argv (argv[0] = tool name), env; NUL-separated */
    char cwd[4096], num[32];
    const char *pwd = getenv("PWD");
    struct stat a, b;
    if (pwd && pwd[0] == '/' && stat(pwd, &a) == 0 && stat(".", &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino)
        snprintf(cwd, sizeof cwd, "%s", pwd); /* as the shell sees it (symlinks kept), like Go's os.Getwd */
    else if (!getcwd(cwd, sizeof cwd))
        cwd[0] = 0;
    adds(cwd);
    snprintf(num, sizeof num, "%d", argc);
    add("", 1);
    adds(num);
    add("", 1);
    adds(tool);
    for (int i = 1; i < argc; i++) {
        add("", 1);
        adds(argv[i]);
    }
    for (char **e = environ; e && *e; e++) {
        add("", 1);
        adds(*e);
    }
    if (send_frame(fd, 'R', rb, rlen) < 0)
        fail("connection to cesobed serve lost", NULL);

    char h[5];
    char *buf = NULL;
    size_t cap = 0;
    for (;;) {
        if (read_full(fd, h, 5) < 0)
            fail("connection to cesobed serve lost", NULL);
        size_t n = get32(h + 1);
        if (n + 1 > cap) {
            cap = n + 1;
            buf = realloc(buf, cap);
            if (!buf)
                fail("out of memory", NULL);
        }
        if (n && read_full(fd, buf, n) < 0)
            fail("connection to cesobed serve lost", NULL);
        switch (h[0]) {
        case 'o':
            write_full(1, buf, n);
            break;
        case 'e':
            write_full(2, buf, n);
            break;
        case 'i': {
            size_t want = n == 4 ? get32(buf) : 65536;
            if (want == 0 || want > (1 << 20))
                want = 65536;
            char *in = malloc(want);
            if (!in)
                fail("out of memory", NULL);
            ssize_t k;
            do
                k = read(0, in, want);
            while (k < 0 && errno == EINTR);
            int r = k > 0 ? send_frame(fd, 'd', in, (size_t)k) : send_frame(fd, 'z', NULL, 0);
            free(in);
            if (r < 0)
                fail("connection to cesobed serve lost", NULL);
            break;
        }
        case 'x':
            return n == 4 ? (int)(int32_t)get32(buf) : 1;
        }
    }
}
