package org.jrwkv.cli;

import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import org.jrwkv.ProgressListener;

/**
 * Progress bars on stderr when jrwkv runs on a terminal; nothing when its output goes to a pipe
 * or a file (and in tests).
 */
final class ProgressBars {

    private ProgressBars() {
    }

    /** A listener drawing one bar per operation, or {@link ProgressListener#NONE} without a terminal. */
    static ProgressListener forConsole() {
        return System.console() == null ? ProgressListener.NONE : new Bars();
    }

    private static final class Bars implements ProgressListener {
        private ProgressBar bar;

        @Override
        public void start(String task, long total) {
            finish();
            bar = new ProgressBarBuilder().setTaskName(task).setInitialMax(total)
                    .setUnit(" MiB", 1 << 20).showSpeed().setStyle(ProgressBarStyle.COLORFUL_UNICODE_BLOCK)
                    .setConsumer(new ConsoleProgressBarConsumer(System.err)).continuousUpdate().build();
        }

        @Override
        public void update(long done) {
            if (bar != null) {
                bar.stepTo(done);
            }
        }

        @Override
        public void finish() {
            if (bar != null) {
                bar.close();
                bar = null;
            }
        }
    }
}
