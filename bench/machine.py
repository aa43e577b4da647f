"""One description of the machine a benchmark ran on, printed with its figures."""

import os
import platform


def describe() -> str:
    """Host, kernel, CPU model and count, Python version."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            names = [line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")]
        if names:
            cpu = names[0]
    except OSError:
        pass
    return (
        f"machine: {platform.system()} {platform.release()} {platform.machine()}, {cpu}, {os.cpu_count()} CPUs; "
        f"python {platform.python_version()}"
    )
