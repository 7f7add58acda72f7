import type { INetworkModule } from '@azure/msal-node';
import type { Metrics } from '../../telemetry/metrics.ts';

/**
 * Counts token requests where they leave for Entra ID: msal answers most getToken calls from its
 * cache, and only what goes over the wire is an acquisition (or a failure) worth watching. msal posts
 * nothing but token requests; its GETs (metadata) are not counted.
 */
export function countTokenRequests(network: INetworkModule, metrics: Pick<Metrics, 'tokenRequests'>): INetworkModule {
  return {
    sendGetRequestAsync: (url, options) => network.sendGetRequestAsync(url, options),
    sendPostRequestAsync: async <T>(url: string, options?: Parameters<INetworkModule['sendPostRequestAsync']>[1]) => {
      try {
        const response = await network.sendPostRequestAsync<T>(url, options);
        const outcome = response.status < 300 ? 'acquired' : response.status < 500 ? 'rejected' : 'unavailable';
        metrics.tokenRequests.inc({ outcome });
        return response;
      } catch (error) {
        metrics.tokenRequests.inc({ outcome: 'unavailable' });
        throw error;
      }
    },
  };
}
