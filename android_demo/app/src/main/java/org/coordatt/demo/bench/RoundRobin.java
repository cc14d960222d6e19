package org.coordatt.demo.bench;

import java.util.ArrayList;
import java.util.List;

/**
 * The order of timed blocks, as on the host (coordatt.bench.harness): round after round, each
 * round one block of every live job in the same order (ABCABC...), so slow drift (heat, other
 * load) spreads over all jobs instead of falling on the last ones.
 */
public final class RoundRobin {

    /** One block: which round, which job (an index into the run's job list). */
    public static final class Block {
        public final int round;
        public final int job;

        Block(int round, int job) {
            this.round = round;
            this.job = job;
        }

        @Override
        public String toString() {
            return round + ":" + job;
        }
    }

    private RoundRobin() {}

    public static List<Block> order(int jobs, int rounds) {
        List<Block> out = new ArrayList<>(jobs * rounds);
        for (int r = 0; r < rounds; r++) {
            for (int j = 0; j < jobs; j++) {
                out.add(new Block(r, j));
            }
        }
        return out;
    }
}
