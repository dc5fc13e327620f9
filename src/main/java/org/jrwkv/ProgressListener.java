package org.jrwkv;

/**
 * Receives the progress of a long operation (a conversion, a download): first {@link #start},
 * then {@link #update} as work gets done, then {@link #finish}, all on the thread doing the work.
 * Implementations should return quickly.
 */
public interface ProgressListener {

    /** A listener that ignores everything. */
    ProgressListener NONE = new ProgressListener() {
        @Override
        public void start(String task, long total) {
        }

        @Override
        public void update(long done) {
        }

        @Override
        public void finish() {
        }
    };

    /**
     * The operation starts.
     *
     * @param task  what is being done, e.g. {@code "convert RWKV-x070-World-0.4B.pth"}
     * @param total the amount of work in bytes, or -1 if unknown
     */
    void start(String task, long total);

    /**
     * Work got done.
     *
     * @param done the amount done so far, in bytes (never decreasing)
     */
    void update(long done);

    /** The operation ended (successfully or not). */
    void finish();
}
