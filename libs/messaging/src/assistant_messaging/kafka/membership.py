"""How every consumer of this project takes part in its group.

A member learns that its group is rebalancing (another member joined or left) from the answer
to its next heartbeat, and the group waits until every member has rejoined. With aiokafka's
default of one heartbeat every 3 s, each consumer joining a group that another consumer of the
same process was already in held the join for about 3 s: a service with four consumers in its
groups took 6 to 9 s to start, and so did every rebalance of a running one. A heartbeat every
half second brings each wait to about half a second. How long a silent member is given before
the group drops it (the session timeout, 10 s) is unchanged.
"""

from typing import Final

HEARTBEAT_INTERVAL_MS: Final = 500
