/* SPDX-License-Identifier: MIT */
/* Linux-personality test: files in a writable root, and paths that try to leave it. Prints each result;
 * run with --root DIR,rw where DIR holds escape -> /etc/hostname (absolute) and up -> ../.. links. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static void show(const char *what, long rc)
{
    printf("%s: %ld%s%s\n", what, rc, rc < 0 ? " " : "", rc < 0 ? strerror(errno) : "");
    errno = 0;
}

/* Open a path and say what came of it: the first line of the file, or the error. */
static void show_open(const char *path)
{
    char buf[64] = "";
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        printf("open %s: %s\n", path, strerror(errno));
        return;
    }
    long n = read(fd, buf, sizeof(buf) - 1);
    buf[n > 0 ? n : 0] = 0;
    buf[strcspn(buf, "\n")] = 0;
    printf("open %s: \"%s\"\n", path, buf);
    close(fd);
}

int main(void)
{
    char buf[256];
    show("mkdir /d", mkdir("/d", 0755));
    int fd = open("/d/f.txt", O_CREAT | O_RDWR | O_TRUNC, 0644);
    show("open /d/f.txt", fd >= 0 ? 0 : -1);
    show("write", write(fd, "hello, root\n", 12));
    show("lseek", lseek(fd, 7, SEEK_SET));
    show("read", read(fd, buf, sizeof(buf)));
    show("pread", pread(fd, buf, 5, 0));
    printf("data=%.5s\n", buf);
    struct stat st;
    show("fstat", fstat(fd, &st));
    printf("size=%lld regular=%d\n", (long long)st.st_size, S_ISREG(st.st_mode));
    unsigned long long sx[32] = { 0 }; /* struct statx: 256 bytes, stx_size at byte 40 */
    show("statx", syscall(SYS_statx, AT_FDCWD, "/d/f.txt", 0, 0x200 /* STATX_SIZE */, sx));
    printf("statx size=%llu\n", sx[5]);
    close(fd);
    show("chdir /d", chdir("/d"));
    show("getcwd", getcwd(buf, sizeof(buf)) ? 0 : -1);
    printf("cwd=%s\n", buf);
    show("rename f.txt g.txt", rename("f.txt", "g.txt"));
    show("stat g.txt", stat("g.txt", &st));
    show("stat ../d/g.txt", stat("../d/g.txt", &st));
    DIR *d = opendir(".");
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));)
        n += e->d_name[0] != '.';
    closedir(d);
    printf("entries=%d\n", n);
    show("unlink g.txt", unlink("g.txt"));
    show("chdir /", chdir("/"));
    show("rmdir /d", rmdir("/d"));
    /* escapes: each resolves inside the root */
    show_open("../../../etc/passwd");
    show_open("/escape");
    show_open("/up/etc/passwd");
    show("stat /proc/self/exe", stat("/proc/self/exe", &st));
    show("mkdir /up/x", mkdir("/up/x", 0755));
    show("rmdir /up/x", rmdir("/up/x"));
    show("open bad path", open((const char *)8, O_RDONLY));
    return 0;
}
