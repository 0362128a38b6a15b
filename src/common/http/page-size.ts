import { applyDecorators } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';

// A list route's `limit` query parameter: 1 to `maximum`, `defaultSize` when omitted (applied by the route).
export function PageSize(defaultSize: number, maximum: number): PropertyDecorator {
  return applyDecorators(ApiPropertyOptional({ default: defaultSize, maximum }), IsOptional(), Type(() => Number), IsInt(), Min(1), Max(maximum));
}
