// The built-in resource tree served when no --mockup is given: a small iLO-like server with
// the shapes, names and Oem.Hpe fields of the iLO 6 1.66 DL380a mockup (shared/mockups), cut
// down to what a client exercises. Session resources are not here: they are always live.
import type { Profile } from './profiles.js';
import type { JsonObject } from './resource-store.js';

const link = (uri: string) => ({ '@odata.id': uri });

function collection(uri: string, type: string, name: string, members: string[]): JsonObject {
  return {
    '@odata.context': `/redfish/v1/$metadata#${type}.${type}`,
    '@odata.id': uri,
    '@odata.type': `#${type}.${type}`,
    Description: `${name} view`,
    Name: name,
    Members: members.map(link),
    'Members@odata.count': members.length,
  };
}

export interface BuiltinTreeOptions {
  /** iLO 7: whether the virtual NIC is enabled in iLO (`VirtualNICEnabled`, `InterfaceEnabled`). */
  vnicEnabled?: boolean;
}

export function builtinTree(profile: Profile, userNames: readonly string[], options: BuiltinTreeOptions = {}): Map<string, JsonObject> {
  const ilo7 = profile.inband === 'vnic';
  const vnicEnabled = ilo7 && (options.vnicEnabled ?? true);
  const tree = new Map<string, JsonObject>();
  const add = (resource: JsonObject) => tree.set(String(resource['@odata.id']), resource);

  add({
    '@odata.context': '/redfish/v1/$metadata#ServiceRoot.ServiceRoot',
    '@odata.id': '/redfish/v1',
    '@odata.type': '#ServiceRoot.v1_13_0.ServiceRoot',
    Id: 'RootService',
    AccountService: link('/redfish/v1/AccountService'),
    Chassis: link('/redfish/v1/Chassis'),
    EventService: link('/redfish/v1/EventService'),
    Links: { Sessions: link('/redfish/v1/SessionService/Sessions') },
    Managers: link('/redfish/v1/Managers'),
    Name: 'HPE RESTful Root Service',
    Oem: {
      Hpe: {
        '@odata.context': '/redfish/v1/$metadata#HpeiLOServiceExt.HpeiLOServiceExt',
        '@odata.type': '#HpeiLOServiceExt.v2_7_0.HpeiLOServiceExt',
        Manager: [
          {
            DefaultLanguage: 'en',
            FQDN: 'ilo-simulator.local',
            HostName: 'ilo-simulator',
            ManagerFirmwareVersion: profile.managerFirmwareVersion,
            ManagerType: profile.managerType,
            Status: { Health: 'OK' },
          },
        ],
        Moniker: { PRODGEN: profile.managerType, PRODNAM: 'Integrated Lights-Out', VENDABR: 'HPE' },
        Sessions: {
          CertCommonName: 'ilo-simulator.local',
          CertificateLoginEnabled: false,
          KerberosEnabled: false,
          LDAPAuthLicenced: true,
          LDAPEnabled: false,
          LocalLoginEnabled: true,
          LoginFailureDelay: 0,
          LoginHint: {
            Hint: 'POST to /Sessions to login using the following JSON object:',
            HintPOSTData: { Password: 'password', UserName: 'username' },
          },
          SecurityOverride: false,
          ServerName: 'ilo-simulator',
        },
      },
    },
    Product: 'ProLiant DL380 Gen11 -- SIMULATED',
    // As all three mockups advertise it (query.ts implements it).
    ProtocolFeaturesSupported: {
      ExpandQuery: { ExpandAll: false, Levels: true, Links: false, MaxLevels: 1, NoLinks: true },
      FilterQuery: true,
      OnlyMemberQuery: true,
      SelectQuery: true,
    },
    RedfishVersion: '1.20.0',
    Registries: link('/redfish/v1/Registries'),
    SessionService: link('/redfish/v1/SessionService'),
    Systems: link('/redfish/v1/Systems'),
    UUID: '1d3f5e9a-6c2b-5d8e-9f10-0a1b2c3d4e5f',
    Vendor: 'HPE',
  });

  add(collection('/redfish/v1/Systems', 'ComputerSystemCollection', 'Computer Systems', ['/redfish/v1/Systems/1']));
  add({
    '@odata.context': '/redfish/v1/$metadata#ComputerSystem.ComputerSystem',
    '@odata.id': '/redfish/v1/Systems/1',
    '@odata.type': '#ComputerSystem.v1_20_0.ComputerSystem',
    Id: '1',
    Actions: {
      '#ComputerSystem.Reset': {
        'ResetType@Redfish.AllowableValues': ['On', 'ForceOff', 'GracefulShutdown', 'ForceRestart', 'Nmi', 'PushPowerButton', 'GracefulRestart'],
        target: '/redfish/v1/Systems/1/Actions/ComputerSystem.Reset',
      },
    },
    AssetTag: '',
    Bios: link('/redfish/v1/systems/1/bios'),
    BiosVersion: 'U54 v2.16 (03/01/2024)',
    Boot: {
      BootSourceOverrideEnabled: 'Disabled',
      BootSourceOverrideMode: 'UEFI',
      BootSourceOverrideTarget: 'None',
      'BootSourceOverrideTarget@Redfish.AllowableValues': ['None', 'Cd', 'Hdd', 'Usb', 'Utilities', 'Diags', 'BiosSetup', 'Pxe', 'UefiShell', 'UefiHttp', 'UefiTarget'],
    },
    BootProgress: { LastBootTimeSeconds: 114, LastState: 'OSRunning' },
    HostName: 'simulated-host',
    IndicatorLED: 'Off',
    Links: { Chassis: [link('/redfish/v1/Chassis/1')], ManagedBy: [link('/redfish/v1/Managers/1')] },
    Manufacturer: 'HPE',
    MemorySummary: { Status: { HealthRollup: 'OK' }, TotalSystemMemoryGiB: 256 },
    Model: 'ProLiant DL380 Gen11',
    Name: 'Computer System',
    Oem: {
      Hpe: {
        '@odata.context': '/redfish/v1/$metadata#HpeComputerSystemExt.HpeComputerSystemExt',
        '@odata.type': '#HpeComputerSystemExt.v2_13_0.HpeComputerSystemExt',
        PostState: 'FinishedPost',
        ServerSignatureVersion: '1.0',
      },
    },
    PowerState: 'On',
    ProcessorSummary: { Count: 2, Model: 'Intel(R) Xeon(R) Gold 6430', Status: { HealthRollup: 'OK' } },
    SerialNumber: 'SIM0000001',
    Status: { Health: 'OK', HealthRollup: 'OK', State: 'Enabled' },
    Storage: link('/redfish/v1/Systems/1/Storage'),
    SystemType: 'Physical',
    UUID: '30373237-3632-584d-5132-33303030304b',
  });
  add({
    '@odata.context': '/redfish/v1/$metadata#Bios.Bios',
    '@odata.id': '/redfish/v1/systems/1/bios',
    '@odata.type': '#Bios.v1_2_0.Bios',
    Id: 'bios',
    AttributeRegistry: 'BiosAttributeRegistryU54.v1_2_44',
    Attributes: { BootMode: 'Uefi', WorkloadProfile: 'GeneralPowerEfficientCompute', ProcHyperthreading: 'Enabled', AdminName: '' },
    Name: 'BIOS Current Settings',
    // As the mockups show it before any apply (iLO 7's: empty ETag, null Time).
    '@Redfish.Settings': { '@odata.type': '#Settings.v1_0_0.Settings', ETag: '', Messages: [{ MessageId: 'Base.1.0.Success' }], SettingsObject: link('/redfish/v1/systems/1/bios/settings'), Time: null },
  });
  add({
    '@odata.context': '/redfish/v1/$metadata#Bios.Bios',
    '@odata.id': '/redfish/v1/systems/1/bios/settings',
    '@odata.type': '#Bios.v1_2_0.Bios',
    Id: 'settings',
    AttributeRegistry: 'BiosAttributeRegistryU54.v1_2_44',
    Attributes: { BootMode: 'Uefi', WorkloadProfile: 'GeneralPowerEfficientCompute', ProcHyperthreading: 'Enabled', AdminName: '' },
    Name: 'BIOS Pending Settings',
  });
  add(collection('/redfish/v1/Systems/1/Storage', 'StorageCollection', 'Storage', ['/redfish/v1/Systems/1/Storage/DE00A000']));
  add({
    '@odata.context': '/redfish/v1/$metadata#Storage.Storage',
    '@odata.id': '/redfish/v1/Systems/1/Storage/DE00A000',
    '@odata.type': '#Storage.v1_15_0.Storage',
    Id: 'DE00A000',
    Drives: [link('/redfish/v1/Systems/1/Storage/DE00A000/Drives/0'), link('/redfish/v1/Systems/1/Storage/DE00A000/Drives/1')],
    'Drives@odata.count': 2,
    Name: 'HPE MR408i-o Gen11',
    Status: { Health: 'OK', HealthRollup: 'OK', State: 'Enabled' },
    StorageControllers: [{ FirmwareVersion: '52.26.3-5379', Model: 'HPE MR408i-o Gen11', Name: 'HPE MR408i-o Gen11' }],
  });
  for (const n of [0, 1]) {
    add({
      '@odata.context': '/redfish/v1/$metadata#Drive.Drive',
      '@odata.id': `/redfish/v1/Systems/1/Storage/DE00A000/Drives/${n}`,
      '@odata.type': '#Drive.v1_17_0.Drive',
      Id: String(n),
      BlockSizeBytes: 512,
      CapacityBytes: 960197124096,
      MediaType: 'SSD',
      Model: 'VK000960GXAWT',
      Name: `Drive ${n}`,
      Protocol: 'SATA',
      SerialNumber: `SIMDRIVE${n}`,
      Status: { Health: 'OK', State: 'Enabled' },
    });
  }

  add({
    '@odata.context': '/redfish/v1/$metadata#EventService.EventService',
    '@odata.id': '/redfish/v1/EventService',
    '@odata.type': '#EventService.v1_7_2.EventService',
    Id: 'EventService',
    DeliveryRetryAttempts: 3,
    DeliveryRetryIntervalSeconds: 30,
    Description: 'Event Subscription service',
    Name: 'Event Service',
    ServiceEnabled: true,
    Status: { Health: 'OK', HealthRollup: 'OK', State: 'Enabled' },
    Subscriptions: link('/redfish/v1/EventService/Subscriptions'),
  });
  // Its members are live (subscriptions.ts).
  add({ ...collection('/redfish/v1/EventService/Subscriptions', 'EventDestinationCollection', 'EventSubscriptions', []), Description: 'iLO User Event Subscriptions' });
  add(collection('/redfish/v1/Managers', 'ManagerCollection', 'Managers', ['/redfish/v1/Managers/1']));
  add({
    '@odata.context': '/redfish/v1/$metadata#Manager.Manager',
    '@odata.id': '/redfish/v1/Managers/1',
    '@odata.type': '#Manager.v1_5_1.Manager',
    Id: '1',
    Actions: { '#Manager.Reset': { 'ResetType@Redfish.AllowableValues': ['ForceRestart', 'GracefulRestart'], target: '/redfish/v1/Managers/1/Actions/Manager.Reset' } },
    CommandShell: { ConnectTypesSupported: ['SSH', 'Oem'], MaxConcurrentSessions: 9, ServiceEnabled: true },
    FirmwareVersion: profile.firmwareVersion,
    GraphicalConsole: { ConnectTypesSupported: ['KVMIP'], MaxConcurrentSessions: profile.name === 'ilo7' ? 24 : 10, ServiceEnabled: true },
    Links: { ManagerForServers: [link('/redfish/v1/Systems/1')], ManagerInChassis: link('/redfish/v1/Chassis/1') },
    ManagerType: 'BMC',
    Model: profile.managerType,
    Name: 'Manager',
    NetworkProtocol: link('/redfish/v1/Managers/1/NetworkProtocol'),
    SerialConsole: { ConnectTypesSupported: ['SSH', 'IPMI', 'Oem'], MaxConcurrentSessions: 13, ServiceEnabled: true },
    Status: { Health: 'OK', State: 'Enabled' },
    ...(ilo7
      ? {
          EthernetInterfaces: link('/redfish/v1/Managers/1/EthernetInterfaces'),
          HostInterfaces: link('/redfish/v1/Managers/1/HostInterfaces'),
          Oem: {
            Hpe: {
              '@odata.context': '/redfish/v1/$metadata#HpeiLO.HpeiLO',
              '@odata.type': '#HpeiLO.v2_15_0.HpeiLO',
              Links: { SecurityService: link('/redfish/v1/Managers/1/SecurityService') },
              VirtualNICEnabled: vnicEnabled,
            },
          },
        }
      : {}),
  });
  if (ilo7) addIlo7Manager(add, vnicEnabled);
  add({
    '@odata.context': '/redfish/v1/$metadata#ManagerNetworkProtocol.ManagerNetworkProtocol',
    '@odata.id': '/redfish/v1/Managers/1/NetworkProtocol',
    '@odata.type': '#ManagerNetworkProtocol.v1_0_0.ManagerNetworkProtocol',
    Id: 'NetworkProtocol',
    FQDN: 'ilo-simulator.local',
    HTTPS: { Port: 443, ProtocolEnabled: true },
    HostName: 'ilo-simulator',
    IPMI: { Port: 623, ProtocolEnabled: false },
    Name: 'Manager Network Protocol',
    SSH: { Port: 22, ProtocolEnabled: true },
  });

  add(collection('/redfish/v1/Chassis', 'ChassisCollection', 'Computer System Chassis', ['/redfish/v1/Chassis/1']));
  add({
    '@odata.context': '/redfish/v1/$metadata#Chassis.Chassis',
    '@odata.id': '/redfish/v1/Chassis/1',
    '@odata.type': '#Chassis.v1_23_0.Chassis',
    Id: '1',
    ChassisType: 'RackMount',
    IndicatorLED: 'Off',
    Links: { ComputerSystems: [link('/redfish/v1/Systems/1')], ManagedBy: [link('/redfish/v1/Managers/1')] },
    Manufacturer: 'HPE',
    Model: 'ProLiant DL380 Gen11',
    Name: 'Computer System Chassis',
    PowerState: 'On',
    SerialNumber: 'SIM0000001',
    Status: { Health: 'OK', State: 'Enabled' },
  });

  const accountUris = userNames.map((_, i) => `/redfish/v1/AccountService/Accounts/${i + 1}`);
  add({
    '@odata.context': '/redfish/v1/$metadata#AccountService.AccountService',
    '@odata.id': '/redfish/v1/AccountService',
    '@odata.type': '#AccountService.v1_5_0.AccountService',
    Id: 'AccountService',
    Accounts: link('/redfish/v1/AccountService/Accounts'),
    Description: 'iLO User Accounts',
    ...(profile.name === 'ilo5-legacy' ? {} : { HTTPBasicAuth: 'Unadvertised' }),
    MinPasswordLength: 8,
    Name: 'Account Service',
    Oem: {
      Hpe: {
        '@odata.context': '/redfish/v1/$metadata#HpeiLOAccountService.HpeiLOAccountService',
        '@odata.type': '#HpeiLOAccountService.v2_5_0.HpeiLOAccountService',
        AuthFailureDelayTimeSeconds: 10,
        AuthFailureLoggingThreshold: 3,
        AuthFailuresBeforeDelay: 1,
        ...(ilo7 ? { AppAccounts: link('/redfish/v1/AccountService/Oem/Hpe/AppAccounts') } : {}),
      },
    },
    ServiceEnabled: true,
  });
  add(collection('/redfish/v1/AccountService/Accounts', 'ManagerAccountCollection', 'Accounts', accountUris));
  userNames.forEach((user, i) =>
    add({
      '@odata.context': '/redfish/v1/$metadata#ManagerAccount.ManagerAccount',
      '@odata.id': accountUris[i] as string,
      '@odata.type': '#ManagerAccount.v1_3_0.ManagerAccount',
      Id: String(i + 1),
      Description: 'iLO User Account',
      Name: 'User Account',
      Password: null,
      RoleId: 'Administrator',
      UserName: user,
    }),
  );

  add({
    '@odata.context': '/redfish/v1/$metadata#SessionService.SessionService',
    '@odata.id': '/redfish/v1/SessionService',
    '@odata.type': '#SessionService.v1_0_0.SessionService',
    Id: 'SessionService',
    Description: 'Session Service',
    Name: 'Session Service',
    ServiceEnabled: true,
    Sessions: link('/redfish/v1/SessionService/Sessions'),
    Status: { Health: 'OK', State: 'Enabled' },
  });

  add(collection('/redfish/v1/Registries', 'MessageRegistryFileCollection', 'Registry File Collection', ['/redfish/v1/Registries/Base', '/redfish/v1/Registries/iLO']));
  for (const [id, registry] of [['Base', profile.baseRegistry], ['iLO', profile.iloRegistry]] as const) {
    add({
      '@odata.context': '/redfish/v1/$metadata#MessageRegistryFile.MessageRegistryFile',
      '@odata.id': `/redfish/v1/Registries/${id}`,
      '@odata.type': '#MessageRegistryFile.v1_0_4.MessageRegistryFile',
      Id: id,
      Description: `Registry Definition File for ${id}`,
      Languages: ['en'],
      Name: `${id} Message Registry File`,
      Registry: `${registry}.0`,
    });
  }

  if (profile.trailingSlash) {
    for (const resource of tree.values()) addTrailingSlashes(resource);
  }
  return tree;
}

/**
 * iLO 7's virtual NIC as the DL340e iLO 7 1.17 mockup shows it (HewlettPackard/ilo-redfish-emulator,
 * BSD-3): the USB host interface, its manager-side Ethernet interface (16.1.15.1/30, iLO is the
 * DHCP server), and the security state that requires host authentication.
 */
function addIlo7Manager(add: (resource: JsonObject) => void, vnicEnabled: boolean): void {
  add(collection('/redfish/v1/Managers/1/EthernetInterfaces', 'EthernetInterfaceCollection', 'Manager Network Interfaces', ['/redfish/v1/Managers/1/EthernetInterfaces/3']));
  add({
    '@odata.context': '/redfish/v1/$metadata#EthernetInterface.EthernetInterface',
    '@odata.id': '/redfish/v1/Managers/1/EthernetInterfaces/3',
    '@odata.type': '#EthernetInterface.v1_4_1.EthernetInterface',
    Id: '3',
    Description: 'Configuration of this Manager USB Ethernet Interface available for access from Host.',
    IPv4Addresses: [{ Address: '16.1.15.1', AddressOrigin: 'DHCP', SubnetMask: '255.255.255.252' }],
    InterfaceEnabled: vnicEnabled,
    LinkStatus: vnicEnabled ? 'LinkUp' : 'LinkDown',
    Links: { HostInterface: link('/redfish/v1/Managers/1/HostInterfaces/1') },
    MACAddress: '0A:CA:FE:F0:0D:04',
    Name: 'Manager Virtual Network Interface',
    Oem: {
      Hpe: {
        '@odata.context': '/redfish/v1/$metadata#HpeiLOEthernetNetworkInterface.HpeiLOEthernetNetworkInterface',
        '@odata.type': '#HpeiLOEthernetNetworkInterface.v2_4_0.HpeiLOEthernetNetworkInterface',
        ConfigurationSettings: 'Current',
        InterfaceType: 'HostInterface',
        NICSupportsIPv6: false,
      },
    },
    PermanentMACAddress: '0A:CA:FE:F0:0D:04',
    Status: { Health: 'OK', State: vnicEnabled ? 'Enabled' : 'Disabled' },
  });
  add(collection('/redfish/v1/Managers/1/HostInterfaces', 'HostInterfaceCollection', 'Host Interfaces', ['/redfish/v1/Managers/1/HostInterfaces/1']));
  add({
    '@odata.context': '/redfish/v1/$metadata#HostInterface.HostInterface',
    '@odata.id': '/redfish/v1/Managers/1/HostInterfaces/1',
    '@odata.type': '#HostInterface.v1_1_1.HostInterface',
    Id: '1',
    ExternallyAccessible: false,
    HostInterfaceType: 'NetworkHostInterface',
    InterfaceEnabled: vnicEnabled,
    ManagerEthernetInterface: link('/redfish/v1/Managers/1/EthernetInterfaces/3'),
    Name: 'USB Virtual Ethernet Interface',
    NetworkProtocol: link('/redfish/v1/Managers/1/NetworkProtocol'),
    Status: { State: vnicEnabled ? 'Enabled' : 'Disabled' },
  });
  add({
    '@odata.context': '/redfish/v1/$metadata#HpeSecurityService.HpeSecurityService',
    '@odata.id': '/redfish/v1/Managers/1/SecurityService',
    '@odata.type': '#HpeSecurityService.v2_7_0.HpeSecurityService',
    Id: 'SecurityService',
    Name: 'Security Service',
    SecurityState: 'SecureStandard',
    'SecurityState@Redfish.AllowableValues': ['SecureStandard', 'FIPS'],
  });
}

/** Early iLO 5 ends every `@odata.id` with a slash. */
function addTrailingSlashes(value: unknown): void {
  if (Array.isArray(value)) {
    value.forEach(addTrailingSlashes);
  } else if (value && typeof value === 'object') {
    const object = value as Record<string, unknown>;
    for (const [key, inner] of Object.entries(object)) {
      if ((key === '@odata.id' || key === 'target') && typeof inner === 'string' && !inner.endsWith('/')) object[key] = `${inner}/`;
      else addTrailingSlashes(inner);
    }
  }
}
