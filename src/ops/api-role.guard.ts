import { CanActivate, Injectable, NotFoundException } from '@nestjs/common';
import { AppConfig } from '../config/app-config';

/**
 * Worker pods listen only so Kubernetes can probe them and Prometheus can scrape them; the
 * operator routes belong to the api role and answer 404 elsewhere.
 */
@Injectable()
export class ApiRoleGuard implements CanActivate {
  constructor(private readonly config: AppConfig) {}

  canActivate(): boolean {
    if (!this.config.runsApi) throw new NotFoundException('Operator routes are served by the api role');
    return true;
  }
}
