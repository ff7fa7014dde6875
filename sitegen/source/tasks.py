"""Running requests concurrently with one clear error when any of them fails."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

from sitegen.errors import SitegenError


async def gather(coroutines: list[Coroutine[Any, Any, Any]]) -> list[Any]:
    """Run coroutines concurrently; on failure cancel the rest and raise the clearest error.

    A task group reports every failure at once; a person needs one line, so the first user
    error (a :class:`SitegenError`) wins, else the first error of any kind.
    """
    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(c) for c in coroutines]
    except BaseExceptionGroup as group_error:
        raise first_error(group_error) from None
    return [t.result() for t in tasks]


def first_error(group: BaseExceptionGroup) -> BaseException:
    """The error to show from a failed task group: a user error first, else the first one."""
    leaves: list[BaseException] = []

    def collect(err: BaseException) -> None:
        if isinstance(err, BaseExceptionGroup):
            for inner in err.exceptions:
                collect(inner)
        else:
            leaves.append(err)

    collect(group)
    return next((e for e in leaves if isinstance(e, SitegenError)), leaves[0])
