"""Every default of the desired-state language, in one place.

Models take their defaults from here (so `reconcile schema` shows them) and README.md lists
them. Where a well-known tool already has a default users compare against, we match it and say which.
"""

from __future__ import annotations

API_VERSION = "avd.reconciler.io/v1alpha1"

# Settings
OWNERSHIP_TAG_NAME = "avd-reconciler-owner"  # Azure tag names may not contain '/', so no k8s-style prefix
OWNERSHIP_TAG_VALUE = "avd-reconciler"
CONTROLLER_INTERVAL = "15m"  # ASO warns that < 15 min resyncs hit ARM throttling (per subscription)

# ImageDefinition
OS_TYPE = "Windows"
OS_STATE = "Generalized"
HYPER_V_GENERATION = "V2"  # AVD with Trusted Launch needs Gen2
ARCHITECTURE = "x64"
RETENTION_KEEP_NEWEST = 3  # the one in use plus two to roll back to
RETENTION_EXCLUDE_OLDER_FROM_LATEST = True
RETENTION_END_OF_LIFE_AFTER = "30d"
RETENTION_DELETE_AFTER_END_OF_LIFE = False  # deleting is opt-in

# ImageVersion
REPLICA_COUNT = 1
STORAGE_ACCOUNT_TYPE = "Standard_LRS"  # available in every region; ZRS is opt-in
REPLICATION_MODE = "Full"
ALLOW_DELETION_OF_REPLICATED_LOCATIONS = False  # safer than Azure's own default
BLOCK_DELETION_BEFORE_END_OF_LIFE = False

# ImageBuild
BUILD_VM_SIZE = "Standard_D4s_v5"
BUILD_TIMEOUT = "4h"  # Image Builder's own default (240 min)
PLATFORM_IMAGE_VERSION = "latest"
WINDOWS_UPDATE_SEARCH = "IsInstalled=0"
WINDOWS_UPDATE_FILTERS = ("exclude:$_.Title -like '*Preview*'", "include:$true")
WINDOWS_UPDATE_LIMIT = 1000  # Image Builder's default
RESTART_TIMEOUT = "5m"  # Image Builder's default

# HostPool
HOST_POOL_TYPE = "Pooled"
PREFERRED_APP_GROUP_TYPE = "Desktop"
MAX_SESSION_LIMIT = 999999  # Azure's and Terraform's default
VM_OS_DISK_TYPE = "Premium_LRS"
VM_SECURITY_TYPE = "TrustedLaunch"
VM_LICENSE_TYPE = "Windows_Client"  # multi-session AVD hosts
LOCAL_ADMIN_USERNAME = "avdadmin"
MAINTENANCE_TIME_ZONE = "UTC"

# Rollout
ROLLOUT_STRATEGY = "surge"  # build new hosts before removing old ones
ROLLOUT_BATCH_SIZE = 1
ROLLOUT_CAPACITY_FLOOR = 80  # percent; FSLogix/AVD "Session Host Replacer" and Federal AVD default
ROLLOUT_DRAIN_GRACE = "1h"  # the AVD session host update service caps its logoff delay at 60 min
ROLLOUT_FORCE_LOGOFF = True
ROLLOUT_USER_MESSAGE = (
    "This computer is being updated. Please save your work and sign out; "
    "you will be signed out automatically when the grace period ends."
)
ROLLOUT_HEALTH_TIMEOUT = "45m"
ROLLOUT_FAILURE_BUDGET = 0  # stop at the first failed host
ROLLOUT_ON_FAILURE = "halt"  # rollback is opt-in
ROLLOUT_SOAK = "24h"
