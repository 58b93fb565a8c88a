package io.moonwalk.unwinder.cfi;

import org.junit.jupiter.api.Tag;
import io.moonwalk.elf.DebugFileLocator;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.moonwalk.elf.ElfFile;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@Tag("tools")
class UnwindTableCacheTest {
    @TempDir
    Path tmp;

    /** Rows of the unwind table built for {@code file} (a table the cache under test would build too). */
    private static int entriesOf(Path file, RuleDictionary dict) throws Exception {
        try (ElfFile elf = ElfFile.open(file)) {
            return FileUnwindInfo.build(elf, null, dict, DebugFileLocator.none(), true).table().entryCount();
        }
    }

    private static FileIdentity identityOf(Path file) throws Exception {
        try (ElfFile elf = ElfFile.open(file)) {
            return FileIdentity.of(elf, file);
        }
    }

    @Test
    void builtOnceSharedAndFreedWithTheLastReference() throws Exception {
        UnwindTableCache cache = new UnwindTableCache(new RuleDictionary(), 1 << 20, DebugFileLocator.none(), 64);
        Path libc = Fixtures.LIBC;
        FileIdentity id = identityOf(libc);
        assertThat(id.buildId()).as("libc has a build-id, so the identity uses it").isPresent();
        AtomicInteger opens = new AtomicInteger();
        UnwindTableCache.ElfOpener opener = () -> {
            opens.incrementAndGet();
            return ElfFile.open(libc);
        };
        var first = (UnwindTableCache.Installed) cache.acquire(id, libc, opener);
        var second = (UnwindTableCache.Installed) cache.acquire(id, libc, opener);
        assertThat(first.newlyBuilt()).isTrue();
        assertThat(second.newlyBuilt()).isFalse();
        assertThat(second.info()).isSameAs(first.info());
        assertThat(second.firstEntry()).isEqualTo(first.firstEntry()).isZero();
        assertThat(first.fileId()).isEqualTo(id.fileId()).isNotZero();
        assertThat(opens).hasValue(1);
        assertThat(cache.builds()).isEqualTo(1);
        assertThat(cache.hits()).isEqualTo(1);
        assertThat(cache.liveEntries()).isEqualTo(first.entryCount());
        assertThat(cache.references(id)).isEqualTo(2);

        // The same build-id reached through another path (a copy, as in a container) is the same table.
        Path copy = tmp.resolve("libc-copy.so");
        Files.copy(libc, copy);
        var viaCopy = cache.acquire(identityOf(copy), copy, () -> ElfFile.open(copy));
        assertThat(viaCopy).isInstanceOf(UnwindTableCache.Installed.class);
        assertThat(((UnwindTableCache.Installed) viaCopy).newlyBuilt()).isFalse();

        assertThat(cache.release(id)).isFalse();
        assertThat(cache.release(id)).isFalse();
        assertThat(cache.release(id)).as("last reference").isTrue();
        assertThat(cache.liveEntries()).isZero();
        assertThat(cache.liveTables()).isZero();
        assertThatThrownBy(() -> cache.release(id)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("holds no table reference");

        var again = (UnwindTableCache.Installed) cache.acquire(id, libc, opener);
        assertThat(again.newlyBuilt()).as("rebuilt after being freed").isTrue();
        assertThat(again.fileId()).as("file id stable for the identity").isEqualTo(first.fileId());
        assertThat(opens).hasValue(2);
    }

    @Test
    void tablesThatDoNotFitAreRefusedAndCounted() throws Exception {
        RuleDictionary dict = new RuleDictionary();
        int libcEntries = entriesOf(Fixtures.LIBC, dict);
        int luajitEntries = entriesOf(Fixtures.LIBLUAJIT, dict);
        // Room for libc plus a little: luajit cannot fit beside it.
        UnwindTableCache cache = new UnwindTableCache(dict, libcEntries + luajitEntries / 2, DebugFileLocator.none(),
                64);
        FileIdentity libc = identityOf(Fixtures.LIBC);
        FileIdentity luajit = identityOf(Fixtures.LIBLUAJIT);
        assertThat(cache.acquire(libc, null, () -> ElfFile.open(Fixtures.LIBC)))
                .isInstanceOf(UnwindTableCache.Installed.class);
        var refused = cache.acquire(luajit, null, () -> ElfFile.open(Fixtures.LIBLUAJIT));
        assertThat(refused).isInstanceOf(UnwindTableCache.Refused.class);
        var r = (UnwindTableCache.Refused) refused;
        assertThat(r.entriesNeeded()).isEqualTo(luajitEntries);
        assertThat(r.largestFreeRange()).isEqualTo(luajitEntries / 2);
        assertThat(r.reason()).contains("frame-pointer fallback");
        assertThat(cache.refusals()).isEqualTo(1);
        assertThat(cache.builds()).isEqualTo(2);

        // While it still cannot fit, the refusal is answered without rebuilding.
        AtomicInteger opens = new AtomicInteger();
        assertThat(cache.acquire(luajit, null, () -> {
            opens.incrementAndGet();
            return ElfFile.open(Fixtures.LIBLUAJIT);
        })).isInstanceOf(UnwindTableCache.Refused.class);
        assertThat(opens).hasValue(0);
        assertThat(cache.refusals()).isEqualTo(2);

        // Once libc goes, luajit fits.
        assertThat(cache.release(libc)).isTrue();
        var installed = cache.acquire(luajit, null, () -> ElfFile.open(Fixtures.LIBLUAJIT));
        assertThat(installed).isInstanceOf(UnwindTableCache.Installed.class);
        assertThat(cache.liveEntries()).isEqualTo(luajitEntries);
    }

    @Test
    void brokenFilesAreNegativelyCachedAndTransientFailuresAreNot() throws Exception {
        UnwindTableCache cache = new UnwindTableCache(new RuleDictionary(), 1 << 20, DebugFileLocator.none(), 2);
        SplitDebugFixtures f = SplitDebugFixtures.get();
        Path notElf = tmp.resolve("not-elf");
        Files.writeString(notElf, "#!/bin/sh\necho this is not an ELF file, but it is long enough to have a header\n");
        AtomicInteger opens = new AtomicInteger();
        FileIdentity noCfi = identityOf(f.noCfi);
        var a = cache.acquire(noCfi, f.noCfi, () -> {
            opens.incrementAndGet();
            return ElfFile.open(f.noCfi);
        });
        assertThat(a).isInstanceOf(UnwindTableCache.Failed.class);
        assertThat(((UnwindTableCache.Failed) a).permanent()).isTrue();
        assertThat(((UnwindTableCache.Failed) a).reason()).contains("no usable CFI");
        var b = cache.acquire(noCfi, f.noCfi, () -> {
            opens.incrementAndGet();
            return ElfFile.open(f.noCfi);
        });
        assertThat(b).isInstanceOf(UnwindTableCache.Failed.class);
        assertThat(opens).as("negative cache answered the second time").hasValue(1);
        assertThat(cache.negativeHits()).isEqualTo(1);
        assertThat(cache.buildFailures()).isEqualTo(1);

        FileIdentity garbage = FileIdentity.ofFile(1, 2, 3, 4);
        var c = (UnwindTableCache.Failed) cache.acquire(garbage, notElf, () -> ElfFile.open(notElf));
        assertThat(c.permanent()).isTrue();
        assertThat(c.reason()).contains("no ELF magic");

        FileIdentity gone = FileIdentity.ofFile(1, 2, 3, 5);
        Path missing = tmp.resolve("vanished.so");
        var d = (UnwindTableCache.Failed) cache.acquire(gone, missing, () -> {
            throw new NoSuchFileException(missing.toString());
        });
        assertThat(d.permanent()).isFalse();
        assertThat(cache.acquire(gone, missing, () -> {
            throw new NoSuchFileException(missing.toString());
        })).isInstanceOf(UnwindTableCache.Failed.class);
        assertThat(cache.buildFailures()).as("transient failures are retried").isEqualTo(4);

        // A parser bug must not escape: it costs only this file.
        FileIdentity buggy = FileIdentity.ofFile(9, 9, 9, 9);
        var e = (UnwindTableCache.Failed) cache.acquire(buggy, null, () -> {
            throw new IllegalStateException("simulated parser bug");
        });
        assertThat(e.reason()).contains("internal error").contains("simulated parser bug");

        assertThat(cache.negativeEntries()).as("bounded at 2").isEqualTo(2);
        assertThat(cache.liveEntries()).isZero();
    }

    @Test
    void fileIdentityAndFileId() throws Exception {
        FileIdentity a = FileIdentity.ofBuildId("93AC61ec5a8eb1396f9fbd350e3169a558528a40");
        FileIdentity b = FileIdentity.ofBuildId("93ac61ec5a8eb1396f9fbd350e3169a558528a40");
        FileIdentity c = FileIdentity.ofBuildId("93ac61ec5a8eb1396f9fbd350e3169a558528a41");
        assertThat(a).isEqualTo(b).hasSameHashCodeAs(b);
        assertThat(a.fileId()).isEqualTo(b.fileId()).isNotEqualTo(c.fileId());
        assertThat(FileIdentity.ofFile(1, 2, 3, 4)).isEqualTo(FileIdentity.ofFile(1, 2, 3, 4))
                .isNotEqualTo(FileIdentity.ofFile(1, 2, 3, 5));
        assertThat(FileIdentity.ofFile(1, 2, 3, 4).fileId()).isNotEqualTo(FileIdentity.ofFile(1, 2, 3, 5).fileId());
        assertThatThrownBy(() -> FileIdentity.ofBuildId("xyz")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> FileIdentity.ofBuildId("")).isInstanceOf(IllegalArgumentException.class);

        // Without a build-id the identity is the inode, and rewriting the file changes it.
        Path f = tmp.resolve("nobuildid");
        ExternalTool.run("objcopy", "--remove-section=.note.gnu.build-id", SplitDebugFixtures.get().full.toString(),
                f.toString());
        FileIdentity before = identityOf(f);
        assertThat(before.buildId()).isEmpty();
        Files.setLastModifiedTime(f, java.nio.file.attribute.FileTime.fromMillis(1_000_000));
        assertThat(identityOf(f)).isNotEqualTo(before);
    }

    @Test
    void concurrentAcquireAndReleaseLeaveNothingBehind() throws Exception {
        UnwindTableCache cache = new UnwindTableCache(new RuleDictionary(), 1 << 20, DebugFileLocator.none(), 64);
        SplitDebugFixtures f = SplitDebugFixtures.get();
        List<Path> files = List.of(Fixtures.LIBC, f.full, f.mixed, f.both);
        List<FileIdentity> ids = new ArrayList<>();
        for (Path p : files) {
            ids.add(identityOf(p));
        }
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                int seed = t;
                done.add(pool.submit(() -> {
                    java.util.Random rnd = new java.util.Random(seed);
                    for (int i = 0; i < 200; i++) {
                        int k = rnd.nextInt(files.size());
                        Path p = files.get(k);
                        var acq = cache.acquire(ids.get(k), p, () -> ElfFile.open(p));
                        if (!(acq instanceof UnwindTableCache.Installed inst)) {
                            throw new AssertionError("unexpected " + acq);
                        }
                        if (inst.info().table().entryCount() <= 0) {
                            throw new AssertionError("empty table");
                        }
                        cache.release(ids.get(k));
                    }
                    return null;
                }));
            }
            for (Future<?> d : done) {
                d.get();
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(cache.liveTables()).isZero();
        assertThat(cache.liveEntries()).isZero();
        assertThat(cache.largestFreeRange()).isEqualTo(cache.entryCapacity());
        assertThat(cache.hits() + cache.builds()).isGreaterThanOrEqualTo(800);
        System.out.printf("[cache] 4 threads x 200 acquire/release: builds=%d hits=%d%n", cache.builds(),
                cache.hits());
    }

    @Test
    void releasedTablesAreRetainedForReuseAndEvictedWhenTheirRangeIsNeeded() throws Exception {
        RuleDictionary dict = new RuleDictionary();
        int libcEntries = entriesOf(Fixtures.LIBC, dict);
        int luajitEntries = entriesOf(Fixtures.LIBLUAJIT, dict);
        // Room for libc plus a little: a retained libc must make way for luajit.
        UnwindTableCache cache = new UnwindTableCache(dict, libcEntries + luajitEntries / 2, DebugFileLocator.none(),
                64, 4);
        FileIdentity libc = identityOf(Fixtures.LIBC);
        FileIdentity luajit = identityOf(Fixtures.LIBLUAJIT);
        AtomicInteger opens = new AtomicInteger();
        UnwindTableCache.ElfOpener libcOpener = () -> {
            opens.incrementAndGet();
            return ElfFile.open(Fixtures.LIBC);
        };
        var first = (UnwindTableCache.Installed) cache.acquire(libc, null, libcOpener);
        assertThat(cache.release(libc)).as("retained: nothing to delete from the kernel yet").isFalse();
        assertThat(cache.liveTables()).isZero();
        assertThat(cache.retainedTables()).isEqualTo(1);
        assertThat(cache.takeEvicted()).isEmpty();

        // the next process mapping libc reuses the table and its kernel range: no build, nothing to write
        var again = (UnwindTableCache.Installed) cache.acquire(libc, null, libcOpener);
        assertThat(again.newlyBuilt()).isFalse();
        assertThat(again.firstEntry()).isEqualTo(first.firstEntry());
        assertThat(opens).hasValue(1);
        assertThat(cache.builds()).isEqualTo(1);
        assertThat(cache.retainedHits()).isEqualTo(1);
        assertThat(cache.retainedTables()).isZero();
        assertThat(cache.release(libc)).isFalse();

        // luajit does not fit beside the retained libc: libc is evicted and reported for deletion
        assertThat(cache.acquire(luajit, null, () -> ElfFile.open(Fixtures.LIBLUAJIT)))
                .isInstanceOf(UnwindTableCache.Installed.class);
        assertThat(cache.takeEvicted()).containsExactly(libc);
        assertThat(cache.takeEvicted()).isEmpty();
        assertThat(cache.retainedTables()).isZero();
        assertThat(cache.references(libc)).isZero();
        assertThat(cache.liveEntries()).isEqualTo(luajitEntries);
    }

    @Test
    void retentionIsBoundedByCount() throws Exception {
        UnwindTableCache cache = new UnwindTableCache(new RuleDictionary(), 1 << 22, DebugFileLocator.none(), 64, 1);
        FileIdentity libc = identityOf(Fixtures.LIBC);
        FileIdentity luajit = identityOf(Fixtures.LIBLUAJIT);
        cache.acquire(libc, null, () -> ElfFile.open(Fixtures.LIBC));
        cache.acquire(luajit, null, () -> ElfFile.open(Fixtures.LIBLUAJIT));
        cache.release(libc);
        assertThat(cache.takeEvicted()).isEmpty();
        cache.release(luajit);
        assertThat(cache.takeEvicted()).as("only one table may be retained: the eldest goes").containsExactly(libc);
        assertThat(cache.retainedTables()).isEqualTo(1);
    }
}
