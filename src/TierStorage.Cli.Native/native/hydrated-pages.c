/*
 * Linked into the native `tierstorage` on Linux (TierStorage.Cli.Native.csproj, target TierStorageHydratedPages).
 *
 * Before Main, the NativeAOT runtime rebuilds the image's data (its type tables and statics, ~12 MB for this command,
 * the `.hydrated` section) from a compressed form, writing every page of that zero-filled part of the image. Taken one
 * 4 KiB page fault at a time that was most of a `tierstorage --version` (~3,000 faults, 40-50 ms of a 70 ms run on the
 * bench machine; bench/RESULTS.md, "Issue 12, eighth pass"). This constructor runs before the runtime starts and asks
 * the kernel to back that part of the image with transparent huge pages where it can (MADV_HUGEPAGE: the default THP
 * mode "madvise" grants them only to regions that ask) and to map it now in one call (MADV_POPULATE_WRITE, Linux 5.14+).
 *
 * Both are advice: a kernel without THP or without MADV_POPULATE_WRITE refuses them (EINVAL) and the runtime faults the
 * pages in as before. Nothing here can fail the process, print or read anything but the program's own headers.
 */
#define _GNU_SOURCE
#include <link.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#ifndef MADV_HUGEPAGE
#define MADV_HUGEPAGE 14
#endif
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

static int advise_zero_filled_data(struct dl_phdr_info *info, size_t size, void *unused)
{
    (void)size;
    (void)unused;
    /* The program itself is the first object listed, with an empty name; shared libraries are not ours to advise. */
    if (info->dlpi_name != NULL && info->dlpi_name[0] != '\0') return 1;
    long page = sysconf(_SC_PAGESIZE);
    if (page <= 0) return 1;
    for (int i = 0; i < info->dlpi_phnum; i++)
    {
        const ElfW(Phdr) *segment = &info->dlpi_phdr[i];
        if (segment->p_type != PT_LOAD || (segment->p_flags & PF_W) == 0 || segment->p_memsz <= segment->p_filesz) continue;
        /* The segment's zero-filled tail (.bss and .hydrated): anonymous memory past the file's last page. */
        uintptr_t start = info->dlpi_addr + segment->p_vaddr + segment->p_filesz;
        uintptr_t end = info->dlpi_addr + segment->p_vaddr + segment->p_memsz;
        start = (start + (uintptr_t)page - 1) & ~((uintptr_t)page - 1);
        end = end & ~((uintptr_t)page - 1);
        if (end <= start) continue;
        madvise((void *)start, end - start, MADV_HUGEPAGE);
        madvise((void *)start, end - start, MADV_POPULATE_WRITE);
    }
    return 1;
}

__attribute__((constructor)) static void tierstorage_advise_hydrated_pages(void)
{
    dl_iterate_phdr(advise_zero_filled_data, NULL);
}
