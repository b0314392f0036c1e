"""The entity data model of the MDE API: every type the emulator serves, its properties in wire order.

One definition serves four purposes: ``$select`` checks property names against it (and keeps the
entity's own order), ``/api/$metadata`` is generated from it (:mod:`mdekit.emulator.defender.csdl`),
the OData context fragment of an answer names the type of its items (:func:`item_type`), and a
test walks every answer the emulator serves and checks each item has exactly these keys, in this
order, with JSON values of these types (tests/fidelity).

Sources: real captures where there are any (service-facts §4, the ``[FS:...]`` files named in
tests/fidelity/fixtures), else the documentation's examples and property tables. Where the service
declares an enumeration the emulator writes ``Edm.String`` (its ``$metadata`` enum type names are
UNVERIFIED). A type's properties are written ``name Type`` one a line; ``Collection(T)`` for arrays,
a bare name for a complex type of this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

__all__ = [
    "ANALYTICS",
    "COMPLEX_TYPES",
    "ENTITY_SETS",
    "ENTITY_TYPES",
    "NAMESPACE",
    "EntitySet",
    "Property",
    "StructuredType",
    "item_type",
    "keys_of",
    "structured",
]

NAMESPACE = "microsoft.windowsDefenderATP.api"
#: The TVM lists under machines/software/recommendations name types of another namespace.
ANALYTICS = "Analytics.Contracts.PublicAPI"


@dataclass(frozen=True)
class Property:
    """One property: wire name, type (``Edm.String``, ``Collection(Edm.String)``, ``ns.Type``...)."""

    name: str
    type: str
    nullable: bool = True

    @property
    def collection(self) -> bool:
        """Whether the value is a JSON array."""
        return self.type.startswith("Collection(")

    @property
    def element(self) -> str:
        """The type of the value, or of each array element."""
        return self.type[len("Collection(") : -1] if self.collection else self.type


@dataclass(frozen=True)
class StructuredType:
    """An entity type (with a key) or a complex type (``key`` is ``None``)."""

    name: str
    namespace: str
    properties: tuple[Property, ...]
    key: str | None = None

    @property
    def qualified(self) -> str:
        """``namespace.Name``."""
        return f"{self.namespace}.{self.name}"

    def names(self) -> tuple[str, ...]:
        """The property names in wire order."""
        return tuple(p.name for p in self.properties)

    def find(self, name: str) -> Property | None:
        """The property called *name* (case-insensitive, as the service's query options are)."""
        low = name.lower()
        return next((p for p in self.properties if p.name.lower() == low), None)


_EDM = {"String", "Int32", "Int64", "Double", "Boolean", "DateTimeOffset", "Guid"}


#: The properties the two vulnerability-by-machine export rows share.
_ASSET_VULNERABILITY = """
            id String
            deviceId String
            rbacGroupName String
            deviceName String
            osPlatform String
            osVersion String
            osArchitecture String
            softwareVendor String
            softwareName String
            softwareVersion String
            cveId String
            vulnerabilitySeverityLevel String
            recommendedSecurityUpdate String
            recommendedSecurityUpdateId String
            recommendedSecurityUpdateUrl String
            diskPaths Collection(String)
            registryPaths Collection(String)
            lastSeenTimestamp String
            firstSeenTimestamp String
            exploitabilityLevel String
            recommendationReference String
            securityUpdateAvailable Boolean
"""


def _qualify(type_name: str, namespace: str) -> str:
    if type_name.startswith("Collection("):
        return f"Collection({_qualify(type_name[len('Collection(') : -1], namespace)})"
    if type_name in _EDM:
        return f"Edm.{type_name}"
    return type_name if "." in type_name else f"{namespace}.{type_name}"


def _type(name: str, spec: str, key: str | None = None, namespace: str = NAMESPACE) -> StructuredType:
    props = []
    for line in spec.strip().splitlines():
        prop, type_name = line.split()
        props.append(Property(prop, _qualify(type_name, namespace), nullable=prop != key))
    return StructuredType(name, namespace, tuple(props), key)


# -- complex types --------------------------------------------------------------------------------

COMPLEX_TYPES: dict[str, StructuredType] = {
    t.qualified: t
    for t in (
        _type("RelatedUser", "userName String\ndomainName String"),
        _type("LoggedOnUser", "accountName String\ndomainName String"),
        _type("AlertComment", "comment String\ncreatedBy String\ncreatedTime DateTimeOffset"),
        _type("AlertDomain", "host String"),
        # Every key is present on every evidence item, null when not applicable (service-facts §4.1).
        _type(
            "AlertEvidence",
            """
            entityType String
            evidenceCreationTime DateTimeOffset
            sha1 String
            sha256 String
            fileName String
            filePath String
            processId Int64
            processCommandLine String
            processCreationTime DateTimeOffset
            parentProcessId Int64
            parentProcessCreationTime DateTimeOffset
            parentProcessFileName String
            parentProcessFilePath String
            ipAddress String
            url String
            registryKey String
            registryHive String
            registryValueType String
            registryValue String
            accountName String
            domainName String
            userSid String
            aadUserId String
            userPrincipalName String
            detectionStatus String
            """,
        ),
        _type("IpAddress", "ipAddress String\nmacAddress String\ntype String\noperationalStatus String"),
        _type("VmMetadata", "vmId String\ncloudProvider String\nresourceId String\nsubscriptionId String"),
        _type("RelatedFileInfo", "fileIdentifier String\nfileIdentifierType String"),
        _type("KeyValuePair", "key String\nvalue String"),
        _type("LiveResponseCommand", "type String\nparams Collection(KeyValuePair)"),
        _type(
            "MachineActionCommand",
            """
            index Int32
            startTime DateTimeOffset
            endTime DateTimeOffset
            commandStatus String
            errors Collection(String)
            command LiveResponseCommand
            """,
        ),
        _type(
            "IncidentDevice",
            """
            mdatpDeviceId String
            aadDeviceId String
            deviceDnsName String
            osPlatform String
            version String
            osProcessor String
            osBuild Int64
            healthStatus String
            riskScore String
            rbacGroupName String
            rbacGroupId Int32
            firstSeen DateTimeOffset
            """,
        ),
        _type(
            "IncidentEntity",
            """
            entityType String
            sha1 String
            sha256 String
            fileName String
            filePath String
            processId Int64
            processCommandLine String
            processCreationTime DateTimeOffset
            parentProcessId Int64
            parentProcessCreationTime DateTimeOffset
            ipAddress String
            url String
            accountName String
            domainName String
            userSid String
            aadUserId String
            userPrincipalName String
            mailboxDisplayName String
            mailboxAddress String
            clusterBy String
            sender String
            recipient String
            subject String
            deliveryAction String
            securityGroupId String
            securityGroupName String
            registryHive String
            registryKey String
            registryValueType String
            registryValue String
            deviceId String
            """,
        ),
        _type(
            "IncidentAlert",
            """
            alertId String
            incidentId Int64
            serviceSource String
            creationTime DateTimeOffset
            lastUpdatedTime DateTimeOffset
            resolvedTime DateTimeOffset
            firstActivity DateTimeOffset
            lastActivity DateTimeOffset
            title String
            description String
            category String
            status String
            severity String
            investigationId Int64
            investigationState String
            classification String
            determination String
            detectionSource String
            assignedTo String
            actorName String
            threatFamilyName String
            mitreTechniques Collection(String)
            devices Collection(IncidentDevice)
            entities Collection(IncidentEntity)
            """,
        ),
        # The file stats lookups return these (no entity set: the context names the type).
        _type(
            "InOrgFileStats",
            """
            sha1 String
            orgPrevalence String
            organizationPrevalence Int64
            orgFirstSeen DateTimeOffset
            orgLastSeen DateTimeOffset
            globalPrevalence String
            globallyPrevalence Int64
            globalFirstObserved DateTimeOffset
            globalLastObserved DateTimeOffset
            topFileNames Collection(String)
            """,
        ),
        _type(
            "InOrgIPStats",
            """
            ipAddress String
            organizationPrevalence Int64
            orgFirstSeen DateTimeOffset
            orgLastSeen DateTimeOffset
            """,
        ),
        _type(
            "InOrgDomainStats",
            """
            host String
            organizationPrevalence Int64
            orgFirstSeen DateTimeOffset
            orgLastSeen DateTimeOffset
            """,
        ),
        _type(
            "PublicAssetVulnerabilityDto",
            """
            id String
            cveId String
            machineId String
            fixingKbId String
            productName String
            productVendor String
            productVersion String
            severity String
            """,
        ),
        _type(
            "PublicProductFixDto",
            """
            id String
            name String
            productsNames Collection(String)
            url String
            machineMissedOn Int64
            cveAddressed Int64
            """,
        ),
        # The JSON assessment exports: their times are "2020-12-30 14:17:26" text, not ISO 8601.
        _type("AssetVulnerability", _ASSET_VULNERABILITY + "cvssScore Double"),
        # the changes export: the same row without cvssScore, plus what changed and when
        _type("DeltaAssetVulnerability", _ASSET_VULNERABILITY + "status String\neventTimestamp String"),
        _type(
            "AssetSoftware",
            """
            deviceId String
            rbacGroupName String
            deviceName String
            osPlatform String
            softwareVendor String
            softwareName String
            softwareVersion String
            numberOfWeaknesses Int32
            diskPaths Collection(String)
            registryPaths Collection(String)
            softwareFirstSeenTimestamp String
            endOfSupportStatus String
            endOfSupportDate String
            """,
        ),
        _type(
            "AssetConfiguration",
            """
            deviceId String
            rbacGroupName String
            deviceName String
            osPlatform String
            osVersion String
            timestamp String
            configurationId String
            configurationCategory String
            configurationSubcategory String
            configurationImpact Double
            isCompliant Boolean
            isApplicable Boolean
            isExpectedUserImpact Boolean
            configurationName String
            recommendationReference String
            """,
        ),
        _type("ExportFilesResponse", "exportFiles Collection(String)\ngeneratedTime DateTimeOffset"),
        _type(
            "ImportIndicatorResult",
            "id String\nindicator String\nisFailed Boolean\nfailureReason String",
        ),
        _type(
            "PublicVulnerabilityDto",
            """
            id String
            name String
            description String
            severity String
            cvssV3 Double
            exposedMachines Int64
            publishedOn DateTimeOffset
            updatedOn DateTimeOffset
            publicExploit Boolean
            exploitVerified Boolean
            exploitInKit Boolean
            exploitTypes Collection(String)
            exploitUris Collection(String)
            """,
            namespace=ANALYTICS,
        ),
        _type(
            "PublicProductDto",
            """
            id String
            name String
            vendor String
            weaknesses Int64
            publicExploit Boolean
            activeAlert Boolean
            exposedMachines Int64
            impactScore Double
            """,
            namespace=ANALYTICS,
        ),
    )
}

# -- entity types ---------------------------------------------------------------------------------

ENTITY_TYPES: dict[str, StructuredType] = {
    t.qualified: t
    for t in (
        # Real list capture order (service-facts §4.1, [FS:14904653326]).
        _type(
            "Alert",
            """
            id String
            incidentId Int64
            investigationId Int64
            assignedTo String
            severity String
            status String
            classification String
            determination String
            investigationState String
            detectionSource String
            detectorId String
            category String
            threatFamilyName String
            title String
            description String
            alertCreationTime DateTimeOffset
            firstEventTime DateTimeOffset
            lastEventTime DateTimeOffset
            lastUpdateTime DateTimeOffset
            resolvedTime DateTimeOffset
            machineId String
            computerDnsName String
            rbacGroupName String
            aadTenantId String
            threatName String
            mitreTechniques Collection(String)
            relatedUser RelatedUser
            loggedOnUsers Collection(LoggedOnUser)
            comments Collection(AlertComment)
            evidence Collection(AlertEvidence)
            domains Collection(AlertDomain)
            """,
            key="id",
        ),
        # Real capture order (service-facts §4.2, [FS:14600360650]).
        _type(
            "Machine",
            """
            id String
            mergedIntoMachineId String
            isPotentialDuplication Boolean
            isExcluded Boolean
            exclusionReason String
            computerDnsName String
            firstSeen DateTimeOffset
            lastSeen DateTimeOffset
            osPlatform String
            osVersion String
            osProcessor String
            version String
            lastIpAddress String
            lastExternalIpAddress String
            agentVersion String
            osBuild Int64
            healthStatus String
            deviceValue String
            rbacGroupId Int32
            rbacGroupName String
            riskScore String
            exposureLevel String
            isAadJoined Boolean
            aadDeviceId String
            machineTags Collection(String)
            defenderAvStatus String
            onboardingStatus String
            osArchitecture String
            managedBy String
            managedByStatus String
            ipAddresses Collection(IpAddress)
            vmMetadata VmMetadata
            """,
            key="id",
        ),
        # Real capture order (service-facts §4.3, [FS:18156096087]); the key is an Edm.Guid (a real
        # 400 names it: "The key value should be format of type 'Edm.Guid'").
        _type(
            "MachineAction",
            """
            id Guid
            type String
            title String
            requestor String
            requestorComment String
            status String
            machineId String
            computerDnsName String
            creationDateTimeUtc DateTimeOffset
            lastUpdateDateTimeUtc DateTimeOffset
            cancellationRequestor String
            cancellationComment String
            cancellationDateTimeUtc DateTimeOffset
            errorHResult Int32
            scope String
            externalId String
            requestSource String
            relatedFileInfo RelatedFileInfo
            commands Collection(MachineActionCommand)
            troubleshootInfo String
            """,
            key="id",
        ),
        # Real 2023 list capture order ([FS:14195078262]): ``externalId`` (the docs table's
        # ``externalID`` is a typo), no ``source``/``sourceType`` any more.
        _type(
            "Indicator",
            """
            id String
            indicatorValue String
            indicatorType String
            action String
            createdBy String
            severity String
            category Int32
            application String
            educateUrl String
            bypassDurationHours Int32
            title String
            description String
            recommendedActions String
            creationTimeDateTimeUtc DateTimeOffset
            expirationTime DateTimeOffset
            lastUpdateTime DateTimeOffset
            lastUpdatedBy String
            rbacGroupNames Collection(String)
            rbacGroupIds Collection(String)
            notificationId String
            notificationBody String
            version String
            mitreTechniques Collection(String)
            historicalDetection Boolean
            lookBackPeriod String
            generateAlert Boolean
            additionalInfo String
            createdByDisplayName String
            externalId String
            createdBySource String
            certificateInfo String
            """,
            key="id",
        ),
        _type(
            "Investigation",
            """
            id String
            startTime DateTimeOffset
            endTime DateTimeOffset
            state String
            cancelledBy String
            statusDetails String
            machineId String
            computerDnsName String
            triggeringAlertId String
            """,
            key="id",
        ),
        _type(
            "File",
            """
            sha1 String
            sha256 String
            md5 String
            globalPrevalence Int64
            globalFirstObserved DateTimeOffset
            globalLastObserved DateTimeOffset
            size Int64
            fileType String
            isPeFile Boolean
            filePublisher String
            fileProductName String
            signer String
            issuer String
            signerHash String
            isValidCertificate Boolean
            determinationType String
            determinationValue String
            """,
            key="sha1",
        ),
        # Real capture order ([FS:14310860597]).
        _type(
            "User",
            """
            id String
            accountName String
            accountDomain String
            accountSid String
            firstSeen DateTimeOffset
            lastSeen DateTimeOffset
            mostPrevalentMachineId String
            leastPrevalentMachineId String
            logonTypes String
            logOnMachinesCount Int32
            isDomainAdmin Boolean
            isOnlyNetworkUser Boolean
            """,
            key="id",
        ),
        _type("Domain", "host String", key="host"),
        _type("Ip", "id String", key="id"),
        _type(
            "Vulnerability",
            """
            id String
            name String
            description String
            severity String
            cvssV3 Double
            cvssVector String
            exposedMachines Int64
            publishedOn DateTimeOffset
            updatedOn DateTimeOffset
            publicExploit Boolean
            exploitVerified Boolean
            exploitInKit Boolean
            exploitTypes Collection(String)
            exploitUris Collection(String)
            CveSupportability String
            """,
            key="id",
        ),
        _type(
            "Software",
            """
            id String
            name String
            vendor String
            weaknesses Int64
            publicExploit Boolean
            activeAlert Boolean
            exposedMachines Int64
            impactScore Double
            """,
            key="id",
        ),
        _type(
            "Recommendation",
            """
            id String
            productName String
            recommendationName String
            weaknesses Int64
            vendor String
            recommendedVersion String
            recommendationCategory String
            subCategory String
            severityScore Double
            publicExploit Boolean
            activeAlert Boolean
            associatedThreats Collection(String)
            remediationType String
            status String
            configScoreImpact Double
            exposureImpact Double
            totalMachineCount Int64
            exposedMachinesCount Int64
            nonProductivityImpactedAssets Int64
            relatedComponent String
            tags Collection(String)
            exposedCriticalDevices Int64
            """,
            key="id",
        ),
        _type(
            "RemediationTask",
            """
            id String
            title String
            createdOn DateTimeOffset
            requesterId String
            requesterEmail String
            status String
            statusLastModifiedOn DateTimeOffset
            description String
            relatedComponent String
            targetDevices Int64
            rbacGroupNames Collection(String)
            fixedDevices Int64
            requesterNotes String
            dueOn DateTimeOffset
            category String
            productivityImpactRemediationType String
            priority String
            completionMethod String
            completerId String
            completerEmail String
            scid String
            type String
            productId String
            vendorId String
            nameId String
            recommendedVersion String
            recommendedVendor String
            recommendedProgram String
            """,
            key="id",
        ),
        _type(
            "MachineReference",
            "id String\ncomputerDnsName String\nosPlatform String\nrbacGroupName String",
            key="id",
        ),
        _type(
            "Distribution",
            "version String\ninstallations Int64\nvulnerabilities Int64",
            key="version",
        ),
        _type(
            "DeviceAvInfo",
            """
            id String
            machineId String
            computerDnsName String
            osKind String
            osPlatform String
            osVersion String
            avMode String
            avSignatureVersion String
            avEngineVersion String
            avPlatformVersion String
            lastSeenTime DateTimeOffset
            quickScanResult String
            quickScanError String
            quickScanTime DateTimeOffset
            fullScanResult String
            fullScanError String
            fullScanTime DateTimeOffset
            dataRefreshTimestamp DateTimeOffset
            avEngineUpdateTime DateTimeOffset
            avSignatureUpdateTime DateTimeOffset
            avPlatformUpdateTime DateTimeOffset
            avIsSignatureUpToDate String
            avIsEngineUpToDate String
            avIsPlatformUpToDate String
            avSignaturePublishTime DateTimeOffset
            rbacGroupName String
            rbacGroupId Int64
            """,
            key="id",
        ),
        _type("ExposureScore", "time DateTimeOffset\nscore Double", key="time"),
        # /exposureScore/ByMachineGroups: the same set name, one more property.
        _type(
            "MachineGroupExposureScore",
            "time DateTimeOffset\nscore Double\nrbacGroupName String",
            key="rbacGroupName",
        ),
        _type("ConfigurationScore", "time DateTimeOffset\nscore Double", key="time"),
        # Defender XDR incidents (api-list-incidents example order), on the same front end.
        _type(
            "Incident",
            """
            incidentId Int64
            redirectIncidentId Int64
            incidentName String
            createdTime DateTimeOffset
            lastUpdateTime DateTimeOffset
            assignedTo String
            classification String
            determination String
            status String
            severity String
            tags Collection(String)
            comments Collection(AlertComment)
            alerts Collection(IncidentAlert)
            """,
            key="incidentId",
        ),
    )
}


@dataclass(frozen=True)
class EntitySet:
    """An entity set: its name (the context fragment) and entity type."""

    name: str
    type: str


ENTITY_SETS: tuple[EntitySet, ...] = tuple(
    EntitySet(name, f"{NAMESPACE}.{type_name}")
    for name, type_name in (
        ("Alerts", "Alert"),
        ("Machines", "Machine"),
        ("MachineActions", "MachineAction"),
        ("Indicators", "Indicator"),
        ("Investigations", "Investigation"),
        ("Files", "File"),
        ("Users", "User"),
        ("Domains", "Domain"),
        ("Ips", "Ip"),
        ("Vulnerabilities", "Vulnerability"),
        ("Software", "Software"),
        ("Recommendations", "Recommendation"),
        ("RemediationTasks", "RemediationTask"),
        ("MachineReferences", "MachineReference"),
        ("Distributions", "Distribution"),
        ("DeviceAvInfo", "DeviceAvInfo"),
        ("ExposureScore", "ExposureScore"),
        ("ConfigurationScore", "ConfigurationScore"),
        ("Incidents", "Incident"),
    )
)
_SETS = {s.name.lower(): s for s in ENTITY_SETS}
#: Collections whose items differ from their set's entity type.
_COLLECTION_TYPES = {"exposurescore": f"{NAMESPACE}.MachineGroupExposureScore"}


def structured(qualified: str) -> StructuredType | None:
    """The entity or complex type called *qualified* (``namespace.Name``)."""
    return ENTITY_TYPES.get(qualified) or COMPLEX_TYPES.get(qualified)


@cache
def item_type(fragment: str) -> StructuredType | None:
    """The type of the items an answer with context fragment *fragment* holds.

    ``Machines`` (a collection), ``Machines/$entity`` (one), ``Collection(ns.Type)``, ``ns.Type``
    (a single object of a type outside any set); ``None`` for primitives (``Edm.String``) and
    unknown fragments.
    """
    frag = fragment.split("(", 1)[0] if not fragment.startswith("Collection(") else fragment
    single = frag.endswith("/$entity")
    name = frag.removesuffix("/$entity")
    if name.startswith("Collection(") and name.endswith(")"):
        return structured(name[len("Collection(") : -1])
    found = _SETS.get(name.lower())
    if found is not None:
        qualified = found.type if single else _COLLECTION_TYPES.get(name.lower(), found.type)
        return structured(qualified)
    return structured(name)


def keys_of(type_name: str) -> tuple[str, ...]:
    """The property names of type ``Name`` of the main namespace, in wire order (for builders)."""
    found = structured(f"{NAMESPACE}.{type_name}")
    if found is None:
        raise KeyError(type_name)
    return found.names()
