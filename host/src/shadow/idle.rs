//! The shadow worker's place in the CPU queue: the lowest there is, so
//! that a candidate's comparisons only ever use CPU time the proxy leaves
//! idle. On Linux the calling thread asks for `SCHED_IDLE`; when that is
//! refused it takes nice 19 (the weakest normal priority) for itself
//! alone; elsewhere it stays as it is. Also the thread's own CPU clock,
//! which tells a comparison that ran out of time because it was starved
//! of CPU from one whose candidate was slow.
//!
//! The two `libc` calls are the only unsafe code here: each takes plain
//! integers or a pointer to a local, and neither keeps the pointer.

use std::time::Duration;

/// What the calling thread got from [`lower_this_thread`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Priority {
    /// `SCHED_IDLE`: runs only on a CPU nothing else wants.
    Idle,
    /// `SCHED_IDLE` was refused; nice 19 on this thread.
    Nice19,
    /// Neither could be set (or not Linux): the default priority.
    Unchanged,
}

impl Priority {
    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Idle => "SCHED_IDLE",
            Priority::Nice19 => "nice 19",
            Priority::Unchanged => "unchanged",
        }
    }
}

/// The niceness asked for when `SCHED_IDLE` is refused.
pub const FALLBACK_NICE: i32 = 19;

/// Lowers the calling thread (only it, not the process) to the lowest CPU
/// priority it may take.
#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
pub fn lower_this_thread() -> Priority {
    let param = libc::sched_param { sched_priority: 0 };
    // SAFETY: pid 0 is the calling thread; `param` lives across the call
    // and is only read.
    if unsafe { libc::sched_setscheduler(0, libc::SCHED_IDLE, &param) } == 0 {
        return Priority::Idle;
    }
    // SAFETY: integer arguments only; on Linux a thread id given to
    // PRIO_PROCESS sets that thread's niceness alone.
    let tid = unsafe { libc::gettid() };
    let who = libc::id_t::try_from(tid).unwrap_or(0);
    // SAFETY: as above.
    if unsafe { libc::setpriority(libc::PRIO_PROCESS, who, FALLBACK_NICE) } == 0 {
        return Priority::Nice19;
    }
    Priority::Unchanged
}

#[cfg(not(target_os = "linux"))]
pub fn lower_this_thread() -> Priority {
    Priority::Unchanged
}

/// CPU time the calling thread has used since it started (zero where the
/// clock cannot be read).
#[allow(unsafe_code)]
pub fn thread_cpu_time() -> Duration {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a local the call writes and does not keep.
    if unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) } != 0 {
        return Duration::ZERO;
    }
    let secs = u64::try_from(now.tv_sec).unwrap_or(0);
    let nanos = u32::try_from(now.tv_nsec).unwrap_or(0);
    Duration::new(secs, nanos)
}

/// A comparison is starved when it got less than this share of the time it
/// took on a CPU: it waited for one more than it ran.
pub const STARVED_CPU_PERCENT: u32 = 50;

/// Whether a comparison that ran out of time, having used `cpu` of the
/// `wall` time it took, did so for want of CPU (not the candidate's fault,
/// and no verdict on it).
pub fn starved(out_of_time: bool, cpu: Duration, wall: Duration) -> bool {
    out_of_time && cpu.saturating_mul(100) < wall.saturating_mul(STARVED_CPU_PERCENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starved_below_half_the_wall_time_on_a_cpu_exactly() {
        let wall = Duration::from_millis(1000);
        assert!(starved(true, Duration::from_millis(499), wall));
        assert!(!starved(true, Duration::from_millis(500), wall));
        assert!(
            !starved(false, Duration::ZERO, wall),
            "in time: a verdict, however little CPU it had"
        );
    }

    #[test]
    fn the_thread_cpu_clock_advances_with_work_on_this_thread() {
        let before = thread_cpu_time();
        let mut x = 0u64;
        let until = std::time::Instant::now() + Duration::from_millis(30);
        while std::time::Instant::now() < until {
            x = std::hint::black_box(x.wrapping_add(1));
        }
        assert!(thread_cpu_time() > before, "{x}");
    }
}
